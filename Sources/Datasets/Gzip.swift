import CKernels

/// Gzip (RFC 1952) around DEFLATE (RFC 1951): enough to read the files data sets ship as.
public enum Gzip {
    /// True when `bytes` start with the gzip magic number.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// The decompressed content of the gzip file `bytes` (every member, concatenated), with
    /// each member's CRC-32 and length checked. `path` names the file in errors.
    public static func decompress(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        var output = InflateOutput(sink: nil)
        if bytes.count >= 4 {
            let n = bytes.count
            let promised = Int(UInt32(bytes[n - 4]) | UInt32(bytes[n - 3]) << 8 | UInt32(bytes[n - 2]) << 16 | UInt32(bytes[n - 1]) << 24)
            output.window.reserveCapacity(Swift.min(promised, bytes.count * 1032))
        }
        try bytes.withUnsafeBufferPointer { try members($0, path: path, into: &output) }
        return output.window
    }

    /// Decompresses the gzip file `bytes` piece by piece into `sink`, keeping only DEFLATE's
    /// 32 KiB window and a few MiB of output in memory.
    static func decompress(_ bytes: UnsafeBufferPointer<UInt8>, path: String, into sink: @escaping (UnsafeRawBufferPointer) throws -> Void) throws {
        var output = InflateOutput(sink: sink)
        try members(bytes, path: path, into: &output)
    }

    private static func members(_ bytes: UnsafeBufferPointer<UInt8>, path: String, into output: inout InflateOutput) throws {
        var position = 0
        repeat {
            position = try member(bytes, from: position, into: &output, path: path)
        } while position + 2 <= bytes.count && bytes[position] == 0x1F && bytes[position + 1] == 0x8B
    }

    private static func member(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, into output: inout InflateOutput, path: String) throws -> Int {
        func fail(_ reason: String) -> DataError { .corrupt(path: path, reason: "gzip: \(reason)") }
        guard bytes.count - start >= 18, bytes[start] == 0x1F, bytes[start + 1] == 0x8B else { throw fail("not a gzip file") }
        guard bytes[start + 2] == 8 else { throw fail("compression method \(bytes[start + 2]) is not deflate") }
        let flags = bytes[start + 3]
        var position = start + 10
        if flags & 4 != 0 {
            guard position + 2 <= bytes.count else { throw fail("truncated header") }
            position += 2 + (Int(bytes[position]) | Int(bytes[position + 1]) << 8)
        }
        for flag in [UInt8(8), 16] where flags & flag != 0 {
            while position < bytes.count, bytes[position] != 0 { position += 1 }
            position += 1
        }
        if flags & 2 != 0 { position += 2 }
        guard position < bytes.count else { throw fail("truncated header") }
        var reader = BitReader(bytes: bytes, position: position, path: path)
        try Inflate.run(&reader, into: &output)
        position = reader.alignedByte()
        guard position + 8 <= bytes.count else { throw fail("truncated: the trailer is missing") }
        let stored = UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16 | UInt32(bytes[position + 3]) << 24
        let length = UInt32(bytes[position + 4]) | UInt32(bytes[position + 5]) << 8 | UInt32(bytes[position + 6]) << 16 | UInt32(bytes[position + 7]) << 24
        let (crc, produced) = try output.finishMember()
        guard crc == stored else { throw fail("CRC-32 mismatch: the file is damaged") }
        guard UInt32(truncatingIfNeeded: produced) == length else { throw fail("length mismatch: the file is damaged") }
        return position + 8
    }
}

/// DEFLATE's output: the bytes not yet handed to the sink (all of them without one), of which
/// the last 32 KiB stay for back-references; and the CRC-32 of the current gzip member.
struct InflateOutput {
    var window: [UInt8] = []
    /// Bytes handed to the sink so far.
    private var handedOn = 0
    private var crc: UInt32 = 0
    /// Where the current member began, counted over all the output.
    private var memberStart = 0
    let sink: ((UnsafeRawBufferPointer) throws -> Void)?

    init(sink: ((UnsafeRawBufferPointer) throws -> Void)?) { self.sink = sink }

    /// All bytes produced so far.
    var count: Int { handedOn + window.count }

    @inline(__always)
    mutating func append(_ byte: UInt8) { window.append(byte) }

    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) { window.append(contentsOf: bytes) }

    /// Repeats `length` bytes from `distance` back (which may overlap what is being written).
    mutating func copy(distance: Int, length: Int, path: String) throws {
        guard distance <= window.count, count - memberStart >= distance else {
            throw DataError.corrupt(path: path, reason: "deflate: a distance reaches before the start")
        }
        let start = window.count - distance
        for i in 0..<length { window.append(window[start + i]) }
        if window.count >= 1 << 23 { try handOnIfLarge() }
    }

    /// With a sink, hands on all but the last 32 KiB once a few MiB have gathered.
    mutating func handOnIfLarge() throws {
        guard sink != nil, window.count >= 1 << 22 else { return }
        try handOn(window.count - 32_768)
    }

    /// The current member's CRC-32 and length; with a sink, everything is handed on.
    mutating func finishMember() throws -> (crc: UInt32, length: Int) {
        let offset = Swift.max(0, memberStart - handedOn)
        let tail = window.withUnsafeBufferPointer { latent_crc32(crc, $0.baseAddress! + offset, Int64(window.count - offset)) }
        let length = count - memberStart
        if sink != nil { try handOn(window.count) }
        crc = 0
        memberStart = count
        return (tail, length)
    }

    private mutating func handOn(_ n: Int) throws {
        guard let sink, n > 0 else { return }
        crc = window.withUnsafeBufferPointer { latent_crc32(crc, $0.baseAddress!, Int64(n)) }
        try window.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        window.removeFirst(n)
        handedOn += n
    }
}

/// Reads a DEFLATE stream least-significant bit first.
struct BitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int
    let path: String
    var buffer: UInt64 = 0
    var count = 0

    init(bytes: UnsafeBufferPointer<UInt8>, position: Int, path: String) {
        self.bytes = bytes
        self.position = position
        self.path = path
    }

    /// Ensures at least `n` (<= 56) bits are buffered, padding with zeros past the end.
    @inline(__always)
    mutating func fill(_ n: Int) {
        while count < n {
            let byte: UInt64 = position < bytes.count ? UInt64(bytes[position]) : 0
            buffer |= byte << UInt64(count)
            position += 1
            count += 8
        }
    }

    @inline(__always)
    mutating func bits(_ n: Int) throws -> Int {
        fill(n)
        let value = Int(buffer & ((1 << UInt64(n)) - 1))
        try consume(n)
        return value
    }

    /// Drops `n` buffered bits; consuming past the end of the input means it was truncated.
    @inline(__always)
    mutating func consume(_ n: Int) throws {
        buffer >>= UInt64(n)
        count -= n
        if position * 8 - count > bytes.count * 8 { throw DataError.corrupt(path: path, reason: "deflate: the stream is truncated") }
    }

    /// Drops the bits of the current byte; returns the index of the next whole byte.
    mutating func alignedByte() -> Int {
        let extra = count % 8
        buffer >>= UInt64(extra)
        count -= extra
        return position - count / 8
    }
}

/// A canonical Huffman code as a lookup table over the next `maximumLength` bits.
struct Huffman {
    /// Entry: symbol << 4 | code length; 0 marks an unused code.
    var table: [UInt32]
    let maximumLength: Int

    init(lengths: [Int], path: String) throws {
        maximumLength = Swift.max(lengths.max() ?? 1, 1)
        table = [UInt32](repeating: 0, count: 1 << maximumLength)
        var counts = [Int](repeating: 0, count: 16)
        for length in lengths where length > 0 { counts[length] += 1 }
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for length in 1..<16 {
            code = (code + counts[length - 1]) << 1
            next[length] = code
        }
        for (symbol, length) in lengths.enumerated() where length > 0 {
            let value = next[length]
            next[length] += 1
            guard value < 1 << length else { throw DataError.corrupt(path: path, reason: "deflate: an over-subscribed Huffman code") }
            var reversed = 0
            for bit in 0..<length where value & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            var index = reversed
            while index < table.count {
                table[index] = UInt32(symbol) << 4 | UInt32(length)
                index += 1 << length
            }
        }
    }

    @inline(__always)
    func decode(_ reader: inout BitReader) throws -> Int {
        reader.fill(maximumLength)
        let entry = table[Int(reader.buffer & ((1 << UInt64(maximumLength)) - 1))]
        let length = Int(entry & 15)
        guard length > 0 else { throw DataError.corrupt(path: reader.path, reason: "deflate: an invalid Huffman code") }
        try reader.consume(length)
        return Int(entry >> 4)
    }
}

/// The DEFLATE decoder: stored, fixed-Huffman and dynamic-Huffman blocks.
enum Inflate {
    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// The most bytes one file may decompress to (16 GiB): a larger claim is a damaged or
    /// hostile file, not data.
    static let maximumOutput = 1 << 34
    /// The most bytes one file may decompress to on disk (1 TiB).
    static let maximumStreamedOutput = 1 << 40

    static func run(_ reader: inout BitReader, into output: inout InflateOutput) throws {
        var last = false
        while !last {
            try output.checkSize(path: reader.path)
            try output.handOnIfLarge()
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0: try stored(&reader, into: &output)
            case 1: try block(&reader, into: &output, literals: try fixedLiterals(reader.path), distances: try fixedDistances(reader.path))
            case 2:
                let (literals, distances) = try dynamicCodes(&reader)
                try block(&reader, into: &output, literals: literals, distances: distances)
            default: throw DataError.corrupt(path: reader.path, reason: "deflate: invalid block type")
            }
        }
    }

    static func stored(_ reader: inout BitReader, into output: inout InflateOutput) throws {
        let start = reader.alignedByte()
        reader.buffer = 0
        reader.count = 0
        guard start + 4 <= reader.bytes.count else { throw DataError.corrupt(path: reader.path, reason: "deflate: the stream is truncated") }
        let length = Int(reader.bytes[start]) | Int(reader.bytes[start + 1]) << 8
        guard start + 4 + length <= reader.bytes.count else { throw DataError.corrupt(path: reader.path, reason: "deflate: the stream is truncated") }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: reader.bytes[(start + 4)..<(start + 4 + length)]))
        reader.position = start + 4 + length
    }

    static func fixedLiterals(_ path: String) throws -> Huffman {
        try Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 }, path: path)
    }

    static func fixedDistances(_ path: String) throws -> Huffman {
        try Huffman(lengths: [Int](repeating: 5, count: 30), path: path)
    }

    static func dynamicCodes(_ reader: inout BitReader) throws -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeLengthCount = try reader.bits(4) + 4
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengths[codeLengthOrder[i]] = try reader.bits(3) }
        let codeLengthCode = try Huffman(lengths: codeLengths, path: reader.path)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthCode.decode(&reader)
            switch symbol {
            case 0..<16: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw DataError.corrupt(path: reader.path, reason: "deflate: a repeat with nothing to repeat") }
                lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw DataError.corrupt(path: reader.path, reason: "deflate: code lengths overrun") }
        return (try Huffman(lengths: Array(lengths[..<literalCount]), path: reader.path),
                try Huffman(lengths: Array(lengths[literalCount...]), path: reader.path))
    }

    static func block(_ reader: inout BitReader, into output: inout InflateOutput, literals: Huffman, distances: Huffman) throws {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                output.append(UInt8(symbol))
                continue
            }
            if symbol == 256 { return }
            try output.checkSize(path: reader.path)
            let lengthIndex = symbol - 257
            guard lengthIndex < lengthBase.count else { throw DataError.corrupt(path: reader.path, reason: "deflate: invalid length symbol") }
            let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
            let distanceSymbol = try distances.decode(&reader)
            guard distanceSymbol < distanceBase.count else { throw DataError.corrupt(path: reader.path, reason: "deflate: invalid distance symbol") }
            let distance = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
            try output.copy(distance: distance, length: length, path: reader.path)
        }
    }
}

extension InflateOutput {
    /// Refuses output past its limit: 16 GiB held in memory, 1 TiB streamed to disk.
    func checkSize(path: String) throws {
        let streamed = sink != nil
        guard count <= (streamed ? Inflate.maximumStreamedOutput : Inflate.maximumOutput) else {
            throw DataError.corrupt(path: path, reason: "deflate: the data decompress to more than \(streamed ? "1 TiB" : "16 GiB in memory")")
        }
    }
}

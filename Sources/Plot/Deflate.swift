/// DEFLATE (RFC 1951) compression in one block of the fixed Huffman codes, with greedy LZ77
/// matches found through a table of the last place each 3-byte sequence was seen: small and
/// fast, and enough for pictures, whose rows repeat.
enum Deflate {
    /// The compressed stream of `bytes`.
    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var writer = BitWriter()
        writer.write(1, bits: 1)
        writer.write(1, bits: 2)
        var lastSeen = [Int](repeating: -1, count: 1 << 16)
        func key(_ index: Int) -> Int { (Int(bytes[index]) << 8 ^ Int(bytes[index + 1]) << 4 ^ Int(bytes[index + 2])) & 0xFFFF }
        var index = 0
        while index < bytes.count {
            var length = 0, distance = 0
            if index + 2 < bytes.count {
                let slot = key(index)
                // The run of the previous byte first (distance 1), else the last place of these three bytes.
                for candidate in [index - 1, lastSeen[slot]] where candidate >= 0 && index - candidate <= 32_768 {
                    var matched = 0
                    while matched < 258, index + matched < bytes.count, bytes[candidate + matched] == bytes[index + matched] { matched += 1 }
                    if matched > length { (length, distance) = (matched, index - candidate) }
                }
                lastSeen[slot] = index
            }
            if length >= 3 {
                writer.writeLength(length)
                writer.writeDistance(distance)
                for covered in (index + 1)..<(index + length) where covered + 2 < bytes.count { lastSeen[key(covered)] = covered }
                index += length
            } else {
                writer.writeSymbol(Int(bytes[index]))
                index += 1
            }
        }
        writer.writeSymbol(256)
        return writer.finished()
    }

    /// The first match length of each length symbol 257...285, and its extra bits.
    static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    /// The first distance of each distance symbol 0...29; symbol `c` has `max(0, c / 2 - 1)` extra bits.
    static let distanceBases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]

    /// Bits packed least significant first, as DEFLATE stores them.
    struct BitWriter {
        var bytes: [UInt8] = []
        var buffer: UInt64 = 0
        var count = 0

        mutating func write(_ value: Int, bits: Int) {
            buffer |= UInt64(value) << UInt64(count)
            count += bits
            while count >= 8 {
                bytes.append(UInt8(buffer & 0xFF))
                buffer >>= 8
                count -= 8
            }
        }

        /// A Huffman code, which DEFLATE stores most significant bit first.
        mutating func writeCode(_ code: Int, length: Int) {
            var reversed = 0
            for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            write(reversed, bits: length)
        }

        /// A literal byte (0...255) or the end of the block (256), in the fixed code.
        mutating func writeSymbol(_ symbol: Int) {
            switch symbol {
            case 0...143: writeCode(0x30 + symbol, length: 8)
            case 144...255: writeCode(0x190 + symbol - 144, length: 9)
            case 256...279: writeCode(symbol - 256, length: 7)
            default: writeCode(0xC0 + symbol - 280, length: 8)
            }
        }

        /// A match length (3...258): its symbol, then its extra bits.
        mutating func writeLength(_ length: Int) {
            let code = Deflate.lengthBases.lastIndex { $0 <= length }!
            writeSymbol(257 + code)
            write(length - Deflate.lengthBases[code], bits: Deflate.lengthExtraBits[code])
        }

        /// A match distance (1...32768): its 5-bit code, then its extra bits.
        mutating func writeDistance(_ distance: Int) {
            let code = Deflate.distanceBases.lastIndex { $0 <= distance }!
            writeCode(code, length: 5)
            write(distance - Deflate.distanceBases[code], bits: Swift.max(0, code / 2 - 1))
        }

        mutating func finished() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(buffer & 0xFF)) }
            return bytes
        }
    }
}

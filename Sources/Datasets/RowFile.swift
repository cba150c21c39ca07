import Foundation
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// A file of equal-sized rows after a header, kept on disk in its stored type and read a few
/// rows at a time with `pread`: memory does not grow with the file, and the page cache, not
/// the process, holds what was read.
final class RowFile: @unchecked Sendable {
    /// How the file stores a number.
    enum Element: Sendable {
        case uint8, float32, float64
        /// NumPy's default integers and its booleans (counts, labels, masks): exact up to 2^24.
        case int32, int64, bool

        var size: Int {
            switch self {
            case .uint8, .bool: return 1
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            }
        }
    }

    let path: String
    let rowCount: Int
    /// Numbers per row.
    let rowLength: Int
    let element: Element
    /// Every number read is multiplied by `scale` (1/255 for pixels).
    let scale: Float
    private let headerBytes: Int
    private let descriptor: Int32

    /// The rows of `path` after `headerBytes`; the file must hold exactly `rowCount` rows.
    init(path: String, headerBytes: Int, rowCount: Int, rowLength: Int, element: Element, scale: Float) throws {
        try checkReadable(path)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DataError.corrupt(path: path, reason: "it cannot be read: \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            throw DataError.corrupt(path: path, reason: "cannot read its size: \(String(cString: strerror(errno)))")
        }
        let expected = headerBytes + rowCount * rowLength * element.size
        guard Int(status.st_size) == expected else {
            close(descriptor)
            throw DataError.corrupt(path: path, reason: "the header promises \(expected) bytes in all, the file has \(status.st_size)")
        }
        self.path = path
        self.headerBytes = headerBytes
        self.rowCount = rowCount
        self.rowLength = rowLength
        self.element = element
        self.scale = scale
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The first `count` bytes of the file at `path` (fewer if it is shorter) and its size: what
    /// a reader needs to parse a header before it opens the rows behind it.
    static func start(of path: String, count: Int) throws -> (bytes: [UInt8], fileSize: Int) {
        try checkReadable(path)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError.corrupt(path: path, reason: "it cannot be read") }
        defer { try? handle.close() }
        let bytes = [UInt8]((try? handle.read(upToCount: count)) ?? Data())
        return (bytes, Int((try? handle.seekToEnd()) ?? 0))
    }

    /// Reads the rows `indices` (each in `0..<rowCount`) into `out`, row after row, converted to
    /// Float; runs of consecutive rows are read with one call. A minibatch's rows are shared
    /// among the compute threads, each reading a contiguous part of `indices` (a minibatch of
    /// scattered rows is a system call a row); the first failing part's error is thrown.
    func read(_ indices: [Int], into out: UnsafeMutablePointer<Float>) throws {
        let rowBytes = rowLength * element.size
        let parts = indices.count * rowBytes < Self.bytesWorthSplitting ? 1 : Swift.min(ComputeThreads.count, indices.count)
        guard parts > 1 else { return try read(indices[...], into: out) }
        var failures = [(any Error)?](repeating: nil, count: parts)
        failures.withUnsafeMutableBufferPointer { failures in
            let context = UncheckedSendable((failures, out))
            parallelFor(parts) { part in
                let (failures, out) = context.value
                let rows = (indices.count * part / parts)..<(indices.count * (part + 1) / parts)
                do { try self.read(indices[rows], into: out + rows.lowerBound * self.rowLength) } catch { failures[part] = error }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
    }

    /// Bytes of rows from which a read is shared among threads.
    static let bytesWorthSplitting = 1 << 16

    /// Reads the rows `indices` into `out` on this thread.
    private func read(_ indices: ArraySlice<Int>, into out: UnsafeMutablePointer<Float>) throws {
        let rowBytes = rowLength * element.size
        let rowsPerRead = Swift.max(1, (1 << 20) / Swift.max(rowBytes, 1))
        var buffer = [UInt8](repeating: 0, count: Swift.min(rowsPerRead, Swift.max(indices.count, 1)) * rowBytes)
        var position = indices.startIndex
        while position < indices.endIndex {
            var run = 1
            while run < rowsPerRead, position + run < indices.endIndex, indices[position + run] == indices[position] + run { run += 1 }
            let bytes = run * rowBytes
            let offset = headerBytes + indices[position] * rowBytes
            try buffer.withUnsafeMutableBytes { raw in
                var done = 0
                while done < bytes {
                    let got = pread(descriptor, raw.baseAddress! + done, bytes - done, off_t(offset + done))
                    if got < 0, errno == EINTR { continue }
                    guard got > 0 else {
                        let reason = got < 0 ? String(cString: strerror(errno)) : "the file ended early; it was changed while being read"
                        throw DataError.corrupt(path: path, reason: "reading row \(indices[position]): \(reason)")
                    }
                    done += got
                }
                Self.convert(UnsafeRawPointer(raw.baseAddress!), element, count: run * rowLength, scale: scale, into: out + (position - indices.startIndex) * rowLength)
            }
            position += run
        }
    }

    /// `count` stored numbers at `source` as Float, each times `scale` (little-endian floats).
    /// The one conversion of stored numbers, for files read whole and read by rows alike.
    static func convert(_ source: UnsafeRawPointer, _ element: Element, count: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
        switch element {
        case .uint8, .bool:
            let bytes = source.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { out[i] = Float(bytes[i]) * scale }
        case .int32:
            for i in 0..<count { out[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) * scale }
        case .int64:
            for i in 0..<count { out[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) * scale }
        case .float32:
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) * scale }
        case .float64:
            for i in 0..<count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) * scale }
        }
    }
}

import Foundation
import TensorCore

/// The IDX format of the MNIST files (raw or gzip-compressed): a magic number whose third byte
/// is the element type (0x08 for unsigned bytes) and fourth the rank, the dimensions as
/// big-endian 32-bit integers, then the elements.
public enum IDXFile {
    /// The unsigned-byte array in the file at `path`, as Float values `scale * 0...255`, with its shape.
    public static func read(_ path: String, scale: Float = 1) throws -> Tensor {
        try parse(try readBytes(path), source: path, scale: scale)
    }

    /// The array in the IDX bytes `bytes` (already decompressed); `source` names them in errors.
    /// Every size in the header is checked against the bytes present before anything is allocated.
    public static func parse(_ bytes: [UInt8], source: String, scale: Float = 1) throws -> Tensor {
        let (shape, offset) = try header(bytes, fileSize: bytes.count, source: source)
        return Tensor.build(shape) { out in
            bytes.withUnsafeBytes { raw in RowFile.convert(raw.baseAddress! + offset, .uint8, count: Shape.count(shape), scale: scale, into: out) }
        }
    }

    /// The rows (first axis) of the raw IDX file at `path`, left on disk and read a minibatch at
    /// a time, as Float values `scale * 0...255`; with the shape of one row.
    static func rows(_ path: String, scale: Float) throws -> (file: RowFile, rowShape: [Int]) {
        let (prefix, size) = try RowFile.start(of: path, count: 4 + 4 * 255)
        let (shape, offset) = try header(prefix, fileSize: size, source: path)
        let rowShape = Array(shape.dropFirst())
        return (try RowFile(path: path, headerBytes: offset, rowCount: shape[0], rowLength: Shape.count(rowShape), element: .uint8, scale: scale), rowShape)
    }

    /// The shape in the header at the start of `bytes`, and where the elements start, checked
    /// against the `fileSize` bytes of the whole file.
    static func header(_ bytes: [UInt8], fileSize: Int, source: String) throws -> (shape: [Int], offset: Int) {
        func fail(_ reason: String) -> DataError { .corrupt(path: source, reason: "IDX: \(reason)") }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw fail("bad magic number (expected 0x0000 then a type and a rank)") }
        guard bytes[2] == 0x08 else { throw fail("element type 0x\(String(bytes[2], radix: 16)) is not unsigned bytes (0x08)") }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw fail("rank 0: no dimensions") }
        guard bytes.count >= 4 + 4 * rank else { throw fail("header of rank \(rank) is truncated") }
        let shape = (0..<rank).map { i in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * i + $1]) }
        }
        let available = fileSize - 4 - 4 * rank
        guard let expected = Shape.checkedCount(shape, limit: available), expected == available else {
            let dimensions = rank <= 8 ? shape.map(String.init).joined(separator: " x ") : shape.prefix(4).map(String.init).joined(separator: " x ") + " x ... (\(rank) dimensions)"
            let needed = Shape.checkedCount(shape, limit: .max).map { "\($0) bytes" } ?? "more bytes than any file holds"
            throw fail("the header promises \(dimensions) = \(needed) of data, the file has \(available)")
        }
        return (shape, 4 + 4 * rank)
    }
}

/// The bytes of the file at `path`, decompressed if it is gzip.
func readBytes(_ path: String) throws -> [UInt8] {
    try checkReadable(path)
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError.corrupt(path: path, reason: "it cannot be read") }
    let bytes = [UInt8](data)
    return Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, path: path) : bytes
}

/// Throws unless `path` is a regular file this process may read, saying which of missing, a
/// folder, a pipe or device, or unreadable (the system's reason) it is.
func checkReadable(_ path: String) throws {
    var status = stat()
    guard stat(path, &status) == 0 else {
        if errno == ENOENT || errno == ENOTDIR { throw DataError.missing(path: path) }
        throw DataError.corrupt(path: path, reason: "it cannot be read: \(String(cString: strerror(errno)))")
    }
    switch status.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw DataError.unsupported(path: path, reason: "it is a folder; a data file was expected")
    default: throw DataError.unsupported(path: path, reason: "it is not a regular file (a pipe or a device); data are read from files")
    }
    guard access(path, R_OK) == 0 else { throw DataError.corrupt(path: path, reason: "it cannot be read: \(String(cString: strerror(errno)))") }
}

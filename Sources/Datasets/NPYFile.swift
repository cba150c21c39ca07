import Foundation
import TensorCore

/// NumPy's `.npy` format, version 1 to 3: float32, float64, uint8, int32, int64 and bool arrays
/// in C order (little endian).
public enum NPYFile {
    /// The array in the file at `path`, as Float values, with its shape.
    public static func read(_ path: String) throws -> Tensor {
        try parse(try readBytes(path), source: path)
    }

    /// The array in the NPY bytes `bytes`; `source` names them in errors. Every size in the
    /// header is checked against the bytes present before anything is allocated.
    public static func parse(_ bytes: [UInt8], source: String) throws -> Tensor {
        let (shape, offset, element) = try header(bytes, fileSize: bytes.count, source: source)
        return Tensor.build(shape) { out in
            bytes.withUnsafeBytes { raw in RowFile.convert(raw.baseAddress! + offset, element, count: Shape.count(shape), scale: 1, into: out) }
        }
    }

    /// The rows (first axis) of the raw NPY file at `path`, left on disk and read a minibatch
    /// at a time, each number times `scale`; with the array's shape.
    static func rows(_ path: String, scale: Float = 1) throws -> (file: RowFile, shape: [Int]) {
        let (prefix, size) = try RowFile.start(of: path, count: 1 << 16)
        let (shape, offset, element) = try header(prefix, fileSize: size, source: path)
        let rows = shape.first ?? 1
        return (try RowFile(path: path, headerBytes: offset, rowCount: rows, rowLength: Shape.count(shape) / Swift.max(rows, 1), element: element, scale: scale), shape)
    }

    /// The shape, where the numbers start and how they are stored, from the header at the start
    /// of `bytes`, checked against the `fileSize` bytes of the whole file.
    static func header(_ bytes: [UInt8], fileSize: Int, source: String) throws -> (shape: [Int], offset: Int, element: RowFile.Element) {
        func fail(_ reason: String) -> DataError { .corrupt(path: source, reason: "NPY: \(reason)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw fail("bad magic number") }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail("format version \(major) is not 1, 2 or 3") }
        let headerStart = major == 1 ? 10 : 12
        guard bytes.count >= headerStart else { throw fail("truncated header") }
        let headerLength = major == 1
            ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard headerLength <= bytes.count - headerStart else { throw fail("truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", in: header).map({ $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }) else { throw fail("header has no 'descr'") }
        switch field("fortran_order", in: header)?.trimmingCharacters(in: CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "}"))) {
        case "False": break
        case "True": throw fail("Fortran-ordered arrays are not supported; save with C order")
        case let other: throw fail("'fortran_order' is \(other.map { "'\($0)'" } ?? "missing"), not True or False, so the order of the values is unknown")
        }
        guard let shapeText = shapeField(in: header) else { throw fail("header has no 'shape'") }
        let entries = shapeText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let dimensions = entries.map { Int($0) }
        guard dimensions.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw fail("shape (\(shapeText)) is not a list of whole numbers >= 0") }
        let shape = dimensions.map { $0! }
        let offset = headerStart + headerLength
        let element: RowFile.Element
        switch descr {
        case "<f4", "=f4": element = .float32
        case "<f8", "=f8": element = .float64
        case "|u1", "<u1", "=u1": element = .uint8
        case "<i4", "=i4": element = .int32
        case "<i8", "=i8": element = .int64
        case "|b1": element = .bool
        default: throw fail("element type \(descr) is not float32, float64, uint8, int32, int64 or bool")
        }
        let size = element.size
        let available = fileSize - offset
        guard let count = Shape.checkedCount(shape, limit: available / size), count * size == available else {
            let needed = Shape.checkedCount(shape, limit: .max).flatMap { count in count.multipliedReportingOverflow(by: size).overflow ? nil : "\(count * size) bytes" } ?? "more bytes than any file holds"
            throw fail("shape \(shape) needs \(needed) of data, the file has \(available)")
        }
        return (shape, offset, element)
    }

    /// The text after the header's last key `name` (a Python dict keeps a repeated key's last value).
    static func field(_ name: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(name)':", options: .backwards) else { return nil }
        let rest = header[range.upperBound...].trimmingCharacters(in: .whitespaces)
        return rest.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func shapeField(in header: String) -> String? {
        guard let range = header.range(of: "'shape':", options: .backwards), let open = header[range.upperBound...].firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else { return nil }
        return String(header[header.index(after: open)..<close])
    }
}

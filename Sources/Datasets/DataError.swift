/// A data file that cannot be read, naming the file and the place in it.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case corrupt(path: String, reason: String)
    case malformed(path: String, line: Int, column: Int?, reason: String)
    case unsupported(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path): return "\(path): no such file or folder"
        case let .corrupt(path, reason): return "\(path): \(reason)"
        case let .malformed(path, line, column, reason):
            return "\(path):\(line)" + (column.map { ":\($0)" } ?? "") + ": \(reason)"
        case let .unsupported(path, reason): return "\(path): \(reason)"
        }
    }
}

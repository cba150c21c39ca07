import Foundation
import TensorCore

/// A CSV file of numbers, with or without a header row: a matrix with one row per line.
public enum CSVFile {
    /// The numbers of the file at `path` (gzip allowed). A first line that is not all numbers is
    /// a header. Rows of different lengths, text where a number should be, and NaN or infinite
    /// values are errors naming the line and column.
    public static func read(_ path: String) throws -> Tensor {
        try parse(String(decoding: try readBytes(path), as: UTF8.self), source: path)
    }

    /// The numbers of the CSV text `text`; `source` names it in errors.
    public static func parse(_ text: String, source path: String) throws -> Tensor {
        var rows: [[Float]] = []
        var width: Int?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.map { Float($0) }
            if rows.isEmpty, width == nil, numbers.contains(where: { $0 == nil }) {
                width = fields.count
                continue
            }
            if let bad = numbers.firstIndex(where: { $0 == nil }) {
                throw DataError.malformed(path: path, line: index + 1, column: bad + 1, reason: "'\(fields[bad])' is not a number")
            }
            let values = numbers.map { $0! }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw DataError.malformed(path: path, line: index + 1, column: bad + 1, reason: "\(values[bad]) is not a finite number")
            }
            if let expected = width, expected != values.count {
                throw DataError.malformed(path: path, line: index + 1, column: nil, reason: "\(values.count) values where the rows above have \(expected)")
            }
            width = values.count
            rows.append(values)
        }
        guard !rows.isEmpty else { throw DataError.corrupt(path: path, reason: "CSV: no rows of numbers") }
        return Tensor(rows)
    }
}

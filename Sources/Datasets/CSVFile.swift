import Foundation
import TensorCore

/// The numeric columns of a CSV file as a matrix, with the columns' names and those left out.
public struct CSVTable {
    /// One row per record, one column per numeric column kept.
    public let values: Tensor
    /// The names of the kept columns (from the header, or `column N`).
    public let columns: [String]
    /// The columns left out, each named with the reason: `'Species' (text)`, `the unnamed first
    /// column (row names)`.
    public let skipped: [String]
}

/// CSV files as R's `write.csv` and pandas' `to_csv` write them: an optional header, quoted
/// fields (with `""` for a quote, commas and line breaks inside), a leading column of row names
/// (its header empty), and text columns beside the numbers.
public enum CSVFile {
    /// The table of the file at `path` (gzip allowed); see `parse`.
    public static func read(_ path: String, columns: [String]? = nil) throws -> CSVTable {
        let bytes = try readBytes(path)
        // A UTF-16 byte-order mark: read as UTF-8, every other byte would be a zero.
        if bytes.count >= 2, (bytes[0], bytes[1]) == (0xFF, 0xFE) || (bytes[0], bytes[1]) == (0xFE, 0xFF) {
            throw DataError.unsupported(path: path, reason: "CSV: the file is in UTF-16; save it as UTF-8 (or ASCII)")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), source: path, columns: columns)
    }

    /// The numeric columns of the CSV text `text` (or the named `columns`), after a byte-order
    /// mark if it starts with one; `source` names it in errors. A first record with text where the next record has a number is the header, as are pandas' column numbers (`isNumberedHeader`). A column is text
    /// when its first value is not a number and no later one is, and is then left out (text
    /// above numbers is an error, as further down); a number column with text,
    /// a missing value (`NA`, empty) or a NaN or infinity further down, and records of another
    /// length, are errors naming the line and column.
    public static func parse(_ text: String, source path: String, columns chosen: [String]? = nil) throws -> CSVTable {
        var records = try splitRecords(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text, source: path)
        guard let first = records.first else { throw DataError.corrupt(path: path, reason: "CSV: no rows of numbers") }
        let second = records.count > 1 ? records[1].fields : []
        let namedHeader = first.fields.indices.contains { column in
            number(first.fields[column]) == nil && !isMissing(first.fields[column]) && (column >= second.count || number(second[column]) != nil || isMissing(second[column]))
        } || (second.isEmpty && first.fields.contains { number($0) == nil })
        let numbered = !namedHeader && isNumberedHeader(first.fields, above: second)
        let width = first.fields.count
        let hasHeader = namedHeader || numbered
        let names = hasHeader ? first.fields.enumerated().map { $0.element.isEmpty ? "" : $0.element } : (1...width).map { "column \($0)" }
        if hasHeader { records.removeFirst() }
        guard !records.isEmpty else { throw DataError.corrupt(path: path, reason: "CSV: no rows of numbers") }
        if let ragged = records.first(where: { $0.fields.count != width }) {
            throw DataError.malformed(path: path, line: ragged.line, column: nil, reason: "\(ragged.fields.count) values where \(hasHeader ? "the header has" : "the rows above have") \(width)")
        }
        var kept: [Int] = [], skipped: [String] = numbered ? ["line 1, the columns' numbers (\(first.fields.filter { !$0.isEmpty }.joined(separator: ",")), as pandas writes a header for unnamed columns)"] : []
        for column in 0..<width {
            let name = names[column]
            if hasHeader, column == 0, name.isEmpty {
                skipped.append("the unnamed first column (row names)")
                continue
            }
            // A column of nothing under no name: commas at the ends of the lines.
            if !hasHeader || name.isEmpty, records.allSatisfy({ $0.fields[column].isEmpty }) {
                skipped.append("the empty column \(column + 1) (commas at the ends of the lines)")
                continue
            }
            let firstValue = records[0].fields[column]
            if number(firstValue) == nil, !isMissing(firstValue) {
                // Text above numbers is a value to fix, not a text column to leave out.
                if chosen == nil, let later = records.firstIndex(where: { number($0.fields[column]) != nil }) {
                    // Every text above the first number, so that a header above a bad first row
                    // is not blamed alone.
                    let texts = records[..<later].filter { !isMissing($0.fields[column]) }
                    let found = "which holds numbers further down ('\(records[later].fields[column])' on line \(records[later].line))"
                    var reason = "'\(firstValue)', not a number in column '\(name)', \(found); remove or fill in that row, or leave the column out with --columns"
                    if texts.count > 1 {
                        let listed = texts.prefix(3).map { "'\($0.fields[column])' on line \($0.line)" }.joined(separator: ", ")
                        let more = texts.count > 3 ? " and \(texts.count - 3) more" : ""
                        reason = "\(listed)\(more): not numbers in column '\(name)', \(found); remove or fill in those rows, or leave the column out with --columns"
                    }
                    throw DataError.malformed(path: path, line: records[0].line, column: column + 1, reason: reason)
                }
                skipped.append("'\(name)' (text)")
                continue
            }
            kept.append(column)
        }
        if let chosen {
            if let repeated = chosen.indices.first(where: { chosen[..<$0].contains(chosen[$0]) }) {
                throw DataError.unsupported(path: path, reason: "CSV: column '\(chosen[repeated])' is chosen twice")
            }
            kept = try chosen.map { name in
                guard let index = names.firstIndex(of: name) else {
                    throw DataError.corrupt(path: path, reason: "CSV: no column '\(name)' (the columns are \(names.filter { !$0.isEmpty }.joined(separator: ", ")))")
                }
                return index
            }
            skipped = names.indices.filter { !kept.contains($0) }.map { names[$0].isEmpty ? "the unnamed first column" : "'\(names[$0])'" }
        }
        // A run keeps its columns by name, so a name must pick out one column: among the header's
        // when chosen by name, among the kept ones otherwise (a text column left out may share it).
        let candidates = chosen == nil ? kept : Array(names.indices)
        if hasHeader, let shared = kept.first(where: { column in candidates.filter { names[$0] == names[column] }.count > 1 }) {
            let places = candidates.filter { names[$0] == names[shared] }.map { String($0 + 1) }.joined(separator: " and ")
            throw DataError.unsupported(path: path, reason: "CSV: the header names columns \(places) '\(names[shared])'; rename one, so that each column has a name of its own")
        }
        guard !kept.isEmpty else {
            // One text column of numbers joined by another separator: say which.
            let separator = width == 1 ? [(";", "semicolons"), ("\t", "tabs"), ("|", "bars")].first { records[0].fields[0].contains($0.0) } : nil
            let hint = separator.map { "; its values seem separated by \($0.1), and a CSV file here separates them by commas" } ?? ""
            throw DataError.corrupt(path: path, reason: "CSV: no column of numbers (left out: \(skipped.joined(separator: ", ")))\(hint)")
        }
        var values: [Float] = []
        values.reserveCapacity(records.count * kept.count)
        for record in records {
            for column in kept {
                let field = record.fields[column]
                guard let value = number(field) else {
                    let what = isMissing(field) ? "a missing value ('\(field)')" : "'\(field)', not a number"
                    throw DataError.malformed(path: path, line: record.line, column: column + 1, reason: "\(what) in column '\(names[column])'; remove or fill in that row")
                }
                guard value.isFinite else {
                    throw DataError.malformed(path: path, line: record.line, column: column + 1, reason: "'\(field)' is beyond the range of a 32-bit float (magnitudes up to 3.4e38)")
                }
                values.append(value)
            }
        }
        return CSVTable(values: Tensor(shape: [records.count, kept.count], scalars: values), columns: kept.map { names[$0] }, skipped: skipped)
    }

    /// Whether `fields` are the header pandas writes for unnamed columns: their numbers 0, 1, ...,
    /// after an empty name over the row numbers if there is one. A row of data may read the
    /// same, so the record below must hold a number that is not a whole one under them (and a
    /// whole one under the empty name); a file of whole numbers keeps its first line as data.
    static func isNumberedHeader(_ fields: [String], above next: [String]) -> Bool {
        let indexed = fields.first == ""
        let numbers = indexed ? Array(fields.dropFirst()) : fields
        guard !numbers.isEmpty, next.count == fields.count,
              numbers.enumerated().allSatisfy({ $0.element == String($0.offset) }) else { return false }
        let below = indexed ? Array(next.dropFirst()) : next
        if indexed, number(next[0]).map({ $0 != $0.rounded() }) ?? true { return false }
        return below.contains { field in number(field).map { $0 != $0.rounded() } ?? false }
    }

    /// The number in `field` when it is written in decimal (digits, a sign, a point, an
    /// exponent), or nil: `Float` would also read `nan`, `inf` and hexadecimal, which in a CSV
    /// file are names and identifiers more often than numbers.
    static func number(_ field: String) -> Float? {
        guard field.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || "+-.eE".utf8.contains($0) }) else { return nil }
        return Float(field)
    }

    /// R's and pandas' spellings of a missing value.
    static func isMissing(_ field: String) -> Bool { ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"].contains(field) }

    /// The records of `text` with the line each starts on: fields split at commas outside
    /// quotes, quotes removed (`""` inside quotes is one quote), surrounding spaces trimmed, blank
    /// lines dropped.
    static func splitRecords(_ text: String, source path: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var line = 1, recordLine = 1
        var characters = text.makeIterator()
        var pending: Character?
        func finishField() {
            fields.append(wasQuoted ? field : field.trimmingCharacters(in: .whitespaces))
            field = ""
            wasQuoted = false
        }
        func finishRecord() {
            finishField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields = []
        }
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let next = characters.next()
                    if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                } else {
                    if character.isNewline { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.trimmingCharacters(in: .whitespaces).isEmpty:
                quoted = true
                wasQuoted = true
                field = ""
            case ",":
                finishField()
            case "\n", "\r\n", "\r":
                finishRecord()
                line += 1
                recordLine = line
            default:
                field.append(character)
            }
        }
        if quoted { throw DataError.malformed(path: path, line: recordLine, column: fields.count + 1, reason: "a quoted field is not closed") }
        finishRecord()
        return records
    }
}

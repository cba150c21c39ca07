import Foundation

/// Where the command writes: human lines to standard output (standard error under `--json`),
/// the JSON report as the last line of standard output, errors to standard error.
struct Output {
    let writeOut: @Sendable (String) -> Void
    let writeError: @Sendable (String) -> Void
    var humanToError = false

    static let standard = Output(
        writeOut: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) },
        writeError: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })

    /// Whether a failure shared by every process of an MPI job is reported here (process 0
    /// reports it, once for the job).
    var reportsSharedFailures = true

    /// For process `rank` (not 0) of an MPI job: nothing but its own failures, marked with its number.
    static func otherProcess(_ rank: Int) -> Output {
        var output = Output(writeOut: { _ in }, writeError: { FileHandle.standardError.write(Data(("[process \(rank)] " + $0 + "\n").utf8)) })
        output.reportsSharedFailures = false
        return output
    }

    func jsonMode() -> Output {
        var copy = self
        copy.humanToError = true
        return copy
    }

    func human(_ line: String) { humanToError ? writeError(line) : writeOut(line) }

    func error(_ line: String) { writeError(line) }

    /// Writes `report` as one line of JSON; false when it cannot be encoded.
    func json(_ report: [String: Any]) -> Bool {
        guard JSONSerialization.isValidJSONObject(report), let data = try? JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]) else {
            return false
        }
        writeOut(String(decoding: data, as: UTF8.self))
        return true
    }
}

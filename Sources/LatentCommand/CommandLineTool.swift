import Foundation
import Latent
import TensorCore

/// The `latent` command: dispatches to a subcommand and turns every failure into one line
/// on standard error with exit status 2 (bad input) or 1 (internal failure).
enum CommandLineTool {
    static var commands: [any Subcommand.Type] { [ListModels.self, Explain.self, Train.self, Evaluate.self, Sample.self, Inpaint.self, Denoise.self, CompareGMM.self, BenchGEMM.self] }

    static let help = """
        latent: amortized variational inference for models written in Swift

        Usage: latent COMMAND [OPTIONS]

        Commands:
        \(commands.map { "  " + $0.name.padding(toLength: 14, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

        Every command accepts --json (one JSON object on the last line of standard output)
        and --help. Run `latent COMMAND --help` for a command's options.
        """

    /// Runs the command line `arguments` (without the program name) and returns the exit status:
    /// 0 done, 2 a mistake in what the user gave (flags, data, checkpoint, model), 1 a failure of
    /// the tool itself. Every failure is one line on standard error.
    static func run(_ arguments: [String], output: Output = .standard) -> Int32 {
        do {
            guard let first = arguments.first, first != "--help", first != "-h", first != "help" else {
                output.human(help)
                return 0
            }
            guard let command = commands.first(where: { matches($0.name, arguments) }) else {
                throw UsageError("unknown command '\(arguments.prefix(2).joined(separator: " "))'; run `latent --help` for the list")
            }
            let rest = Array(arguments.dropFirst(command.name.split(separator: " ").count))
            if rest.contains("--help") || rest.contains("-h") {
                output.human(command.usage)
                return 0
            }
            let parsed = try ParsedArguments(rest, command: command.name, flags: command.flags + [.json], positionals: command.positionals.count)
            if parsed.positional.count < command.positionals.count {
                throw UsageError("'\(command.name)' needs \(command.positionals.joined(separator: " ")); run `latent \(command.name) --help`")
            }
            let report = try checkingTensorErrors { try command.init(parsed).run(output: parsed.has("json") ? output.jsonMode() : output) }
            try requireFinite(report)
            if parsed.has("json") {
                guard output.json(report) else {
                    output.error("latent: internal error: the figures could not be written as JSON")
                    return 1
                }
            }
            return 0
        } catch let error as UsageError {
            output.error("latent: " + oneLine(error.message))
            return 2
        } catch {
            guard isAboutTheInput(error) else {
                output.error("latent: internal error: " + oneLine("\(error)"))
                return 1
            }
            output.error("latent: " + oneLine("\(error)"))
            return 2
        }
    }

    /// Errors that describe what the user gave (a flag, a data file, a checkpoint, a model) or
    /// what it led to (a diverging run); anything else is a failure of the tool.
    static func isAboutTheInput(_ error: any Error) -> Bool {
        switch error {
        case is UsageError, is DataError, is CheckpointError, is ModelError, is CompilerError, is TrainingError,
             is TensorError, is DistributionError, is TableError, is FileWriteError, is OptimizerStateError, is NonFiniteResult:
            return true
        default:
            return false
        }
    }

    /// The message on one line.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    private static func matches(_ name: String, _ arguments: [String]) -> Bool {
        let words = name.split(separator: " ").map(String.init)
        return Array(arguments.prefix(words.count)) == words
    }
}

/// A subcommand of `latent`: its name (one or two words), flags and behaviour.
protocol Subcommand {
    static var name: String { get }
    static var summary: String { get }
    static var flags: [Flag] { get }
    static var usage: String { get }
    /// Names of the words the command takes before its flags (`MODEL`, `CHECKPOINT`).
    static var positionals: [String] { get }
    init(_ arguments: ParsedArguments) throws
    /// Does the work, printing progress through `output`; returns the figures for `--json`.
    func run(output: Output) throws -> [String: Any]
}

extension Subcommand {
    static var positionals: [String] { [] }
}

/// A figure that came out NaN or infinite: never printed as a result.
struct NonFiniteResult: Error, CustomStringConvertible {
    let figure: String
    let value: Double
    var description: String { "the result '\(figure)' is not finite (\(value)); the data or the settings lead to a numerical failure" }
}

/// Throws if any number in `report` (or in a list in it) is NaN or infinite.
func requireFinite(_ report: [String: Any]) throws {
    for key in report.keys.sorted() {
        let values: [Double]
        switch report[key] {
        case let number as Double: values = [number]
        case let number as Float: values = [Double(number)]
        case let list as [Double]: values = list
        default: values = []
        }
        if let bad = values.first(where: { !$0.isFinite }) { throw NonFiniteResult(figure: key, value: bad) }
    }
}

/// A mistake in what the user typed or supplied; the message says what to type instead.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

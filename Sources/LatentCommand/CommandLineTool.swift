import Foundation

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

    /// Runs the command line `arguments` (without the program name) and returns the exit status.
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
            let report = try command.init(parsed).run(output: parsed.has("json") ? output.jsonMode() : output)
            if parsed.has("json") { output.json(report) }
            return 0
        } catch let error as UsageError {
            output.error("latent: \(error.message)")
            return 2
        } catch {
            output.error("latent: \(error)")
            return 2
        }
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

/// A mistake in what the user typed or supplied; the message says what to type instead.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

import Foundation
import Latent
import TensorCore

/// The `latent` command for a set of models: dispatches to a subcommand and turns every failure
/// into one line on standard error with exit status 2 (bad input) or 1 (internal failure).
///
/// A package of one's own gets every subcommand for its own models with a `main.swift` of one
/// line: `CommandLineTool.main(models: [myModel])`.
public enum CommandLineTool {
    /// Runs the command line of this process for `models` and exits with its status.
    /// Under Open MPI's `mpirun`, `train` runs as one job over the processes (see `OpenMPI`):
    /// process 0 alone writes and prints; a failure ends every process.
    public static func main(models: [CommandModel]) -> Never {
        // Past a limit on file size (`ulimit -f`) a write fails with its reason, which is
        // reported and leaves no temporary file; the signal's default ended the process.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        let job: OpenMPI?
        do {
            job = try OpenMPI.fromEnvironment()
        } catch {
            Output.standard.error("\(programName): " + oneLine("\(error)"))
            exit(2)
        }
        guard let job else { exit(run(arguments, models: models)) }
        if job.size > 1, arguments.first != "train" {
            if job.rank == 0 { Output.standard.error("\(programName): only `\(programName) train` runs as one job over several MPI processes; run `\(programName) \(arguments.first ?? "")` without mpirun") }
            job.abort(2)
        }
        DataParallelJob.current = job
        let status = run(arguments, models: models, output: job.rank == 0 ? .standard : .otherProcess(job.rank))
        // A failure that is this process's alone (before training shares them, or a tool error)
        // ends the whole job, so that the others do not wait for it forever; one that every
        // process shares ends each of them.
        if status != 0, !DataParallelJob.failureIsShared { job.abort(status) }
        job.finish()
        exit(status)
    }

    static var commands: [any Subcommand.Type] { [ListModels.self, Explain.self, Train.self, Evaluate.self, Sample.self, Inpaint.self, Denoise.self, CompareGMM.self, CompareVAE.self, BenchGEMM.self, BenchVAE.self, Scaffold.self] }

    /// The flags of the commands that take model options, and --help: no model option may take their names.
    static var commandFlags: Set<String> {
        Set(commands.filter { $0.takesModelOptions }.flatMap { $0.flags.map(\.name) } + ["json", "help"])
    }

    /// The name this program was run by: `latent`, or a package's own tool (`mine`).
    static let programName: String = {
        let name = (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent }) ?? ""
        return name.isEmpty ? "latent" : name
    }()

    static var help: String { """
        \(programName): amortized variational inference for models written in Swift

        Usage: \(programName) COMMAND [OPTIONS]

        Commands:
        \(commandLines(commands))

        Every command accepts --json (one JSON object on the last line of standard output)
        and --help. Run `\(programName) COMMAND --help` for a command's options.
        """
    }

    /// One line for each of `commands`: its name and what it does.
    static func commandLines(_ commands: [any Subcommand.Type]) -> String {
        commands.map { "  " + $0.name.padding(toLength: 14, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n")
    }

    /// Runs the command line `arguments` (without the program name) and returns the exit status:
    /// 0 done, 2 a mistake in what the user gave (flags, data, checkpoint, model), 1 a failure of
    /// the tool itself. Every failure is one line on standard error.
    static func run(_ arguments: [String], models list: [CommandModel], output: Output = .standard) -> Int32 {
        do {
            let models = try Models(list)
            guard let first = arguments.first, first != "--help", first != "-h", first != "help" else {
                output.human(help)
                return 0
            }
            guard let command = commands.first(where: { matches($0.name, arguments) }) else {
                // A group's name alone (`compare`, `bench`), or with a flag or a name it lacks.
                let group = commands.filter { $0.name.hasPrefix(first + " ") }
                if !group.isEmpty {
                    let names = group.map { String($0.name.dropFirst(first.count + 1)) }
                    guard let asked = arguments.dropFirst().first, asked == "--help" || asked == "-h" || !asked.hasPrefix("-") else {
                        throw UsageError("`\(programName) \(first)` needs one of: \(names.joined(separator: ", ")); run `\(programName) \(first) --help` for what each does")
                    }
                    guard asked == "--help" || asked == "-h" else {
                        throw UsageError("unknown command '\(first) \(asked)'; `\(programName) \(first)` takes one of: \(names.joined(separator: ", "))")
                    }
                    output.human("`\(programName) \(first)` takes one of: \(names.joined(separator: ", ")).\n\n" + commandLines(group) + "\n\nRun `\(programName) \(first) \(names[0]) --help` for its options.")
                    return 0
                }
                throw UsageError("unknown command '\(arguments.prefix(2).joined(separator: " "))'; run `\(programName) --help` for the list")
            }
            let rest = Array(arguments.dropFirst(command.name.split(separator: " ").count))
            let model = command.takesModelOptions ? ParsedArguments.firstPositional(rest, flags: command.flags + [.json, .toggle("help", "")]).flatMap { name in models.all.first { $0.name == name } } : nil
            if rest.contains("--help") || rest.contains("-h") {
                var text = command.usage + "\n\nOptions:\n" + optionLines(command.flags + [.json])
                if let model { text += "\n\nOptions of model '\(model.name)':\n" + optionLines(model.flags) }
                output.human(text)
                return 0
            }
            let parsed = try ParsedArguments(rest, command: command.name, flags: command.flags + (model?.flags ?? []) + [.json], positionals: command.positionals.count)
            if parsed.positional.count < command.positionals.count {
                throw UsageError("'\(command.name)' needs \(command.positionals.joined(separator: " ")); run `\(programName) \(command.name) --help`")
            }
            let report = try checkingTensorErrors { try command.init(arguments: parsed, models: models).run(output: parsed.has("json") ? output.jsonMode() : output) }
            try requireFinite(report)
            if parsed.has("json") {
                guard output.json(report) else {
                    output.error("\(programName): internal error: the figures could not be written as JSON")
                    return 1
                }
            }
            return 0
        } catch let error as UsageError {
            // Every process reads the same command line: process 0 says what is wrong with it.
            if output.reportsSharedFailures || !error.isAboutTheCommandLine { output.error("\(programName): " + oneLine(error.message)) }
            return 2
        } catch {
            if error is ProcessFailure {
                DataParallelJob.failureIsShared = true
                if !output.reportsSharedFailures { return 2 }
            }
            guard isAboutTheInput(error) else {
                output.error("\(programName): internal error: " + oneLine("\(error)"))
                return 1
            }
            output.error("\(programName): " + oneLine("\(error)"))
            return 2
        }
    }

    /// Errors that describe what the user gave (a flag, a data file, a checkpoint, a model) or
    /// what it led to (a diverging run); anything else is a failure of the tool.
    static func isAboutTheInput(_ error: any Error) -> Bool {
        switch error {
        case is UsageError, is DataError, is CheckpointError, is ModelError, is CompilerError, is TrainingError,
             is TensorError, is DistributionError, is TableError, is FileWriteError, is OptimizerStateError, is NonFiniteResult, is ProcessFailure, is MPIError:
            return true
        default:
            return false
        }
    }

    /// One line per flag: its name (with VALUE when it takes one) and its meaning, default and range.
    static func optionLines(_ flags: [Flag]) -> String {
        let names = flags.map { "--" + $0.name + ($0.takesValue ? " VALUE" : "") }
        let width = (names.map(\.count).max() ?? 0) + 2
        return zip(names, flags).map { "  " + $0.padding(toLength: width, withPad: " ", startingAt: 0) + $1.help }.joined(separator: "\n")
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
    /// True when the first word names a model whose own options are flags of the command too.
    static var takesModelOptions: Bool { get }
    init(arguments: ParsedArguments, models: Models) throws
    /// Does the work, printing progress through `output`; returns the figures for `--json`.
    func run(output: Output) throws -> [String: Any]
}

extension Subcommand {
    static var positionals: [String] { [] }
    static var takesModelOptions: Bool { false }
}

/// The models a `latent` command serves, by name.
struct Models {
    let all: [CommandModel]

    /// The models, each name once and each option once per model.
    init(_ all: [CommandModel]) throws {
        for (index, model) in all.enumerated() {
            if all[..<index].contains(where: { $0.name == model.name }) { throw UsageError("two models are named '\(model.name)'; each model needs its own name") }
            let names = model.options.map(\.name)
            if let clash = names.first(where: { CommandLineTool.commandFlags.contains($0) }) {
                throw UsageError("model '\(model.name)' declares the option --\(clash), which is a flag of the command itself; rename it")
            }
            if let odd = names.first(where: { $0.isEmpty || $0.first == "-" || !$0.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } }) {
                throw UsageError("model '\(model.name)' declares the option '\(odd)'; option names are lower-case letters, digits and dashes")
            }
            if let repeated = names.enumerated().first(where: { names[..<$0.offset].contains($0.element) }) {
                throw UsageError("model '\(model.name)' declares the option --\(repeated.element) twice")
            }
        }
        self.all = all
    }

    /// The model called `name`, or an error listing the names.
    func named(_ name: String) throws -> CommandModel {
        guard let model = all.first(where: { $0.name == name }) else {
            throw UsageError("unknown model '\(name)'; the models are \(all.map(\.name).joined(separator: ", "))")
        }
        return model
    }
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

    /// Whether it is about the words of the command line (a flag, a command), which every
    /// process of an MPI job reads alike, not about a file one process reads.
    var isAboutTheCommandLine: Bool {
        ["flag '", "unknown flag ", "unknown command ", "unexpected argument "].contains { message.hasPrefix($0) }
    }
}

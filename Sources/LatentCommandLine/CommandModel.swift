import Foundation
import Latent

/// A setting of a model that the command line sets with `--NAME VALUE`: a whole number in
/// `range`, whose default may depend on the numbers per data row.
public struct ModelOption: Sendable {
    public let name: String
    public let help: String
    public let range: ClosedRange<Int>
    /// The value when the flag is not given, from the numbers per data row.
    public let defaultValue: @Sendable (_ dataSize: Int) -> Int
    /// The default when it does not depend on the data (nil when `help` says how it does).
    public let fixedDefault: Int?

    /// `--name VALUE`, `defaultValue` when absent.
    public init(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>, help: String) {
        self.init(name, in: range, help: help, fixedDefault: defaultValue) { _ in defaultValue }
    }

    /// `--name VALUE`, with a default computed from the numbers per data row (say how in `help`).
    public init(_ name: String, in range: ClosedRange<Int>, help: String, default defaultValue: @escaping @Sendable (_ dataSize: Int) -> Int) {
        self.init(name, in: range, help: help, fixedDefault: nil, default: defaultValue)
    }

    private init(_ name: String, in range: ClosedRange<Int>, help: String, fixedDefault: Int?, default defaultValue: @escaping @Sendable (_ dataSize: Int) -> Int) {
        self.name = name
        self.help = help
        self.range = range
        self.fixedDefault = fixedDefault
        self.defaultValue = defaultValue
    }

    /// The help line: meaning, range and default.
    var flagHelp: String {
        "\(help), \(range.lowerBound)...\(range.upperBound)" + (fixedDefault.map { " (default \($0))" } ?? "")
    }
}

/// What a model is built with: the numbers per data row and the value of each of its options.
/// Checkpoints store it, so that `eval`, `sample` and `--resume` rebuild the same model.
public struct ModelSettings: Codable, Equatable, Sendable {
    /// Numbers per data row (784 for MNIST, 2 for the mixture's points).
    public let dataSize: Int
    /// The value of each option, by name.
    public let values: [String: Int]

    public init(dataSize: Int, values: [String: Int]) {
        self.dataSize = dataSize
        self.values = values
    }

    /// The numbers per data row a model here may take.
    static let dataSizes = 1...(1 << 24)

    /// The value of the option `name` (the command fills in every option a model declares).
    public subscript(_ name: String) -> Int { values[name] ?? 0 }

    /// What does not fit `model`'s options, or nil: a value out of range, missing, or unknown.
    func firstProblem(for model: CommandModel) -> String? {
        if !Self.dataSizes.contains(dataSize) { return "data size \(dataSize) is not within \(Self.dataSizes.lowerBound)...\(Self.dataSizes.upperBound)" }
        for option in model.options {
            guard let value = values[option.name] else { return "no value for --\(option.name)" }
            if !option.range.contains(value) { return "--\(option.name) \(value) is not within \(option.range.lowerBound)...\(option.range.upperBound)" }
        }
        if let unknown = values.keys.sorted().first(where: { name in !model.options.contains { $0.name == name } }) {
            return "--\(unknown) is not an option of model '\(model.name)'"
        }
        return nil
    }
}

/// What kind of data a model is trained on.
public enum DataKind: String, Sendable {
    /// Binary images (binarized from grey levels).
    case binaryImages
    /// Real-valued images scaled to [0, 1].
    case images
    /// Rows of real numbers.
    case points
}

/// A model the `latent` command trains, evaluates and draws by name: the model file's model,
/// the options it takes on the command line, and its training defaults.
public struct CommandModel: Sendable {
    /// The command-line name (`gmm`, `bernoulli-vae`): lower case with dashes.
    public let name: String
    public let summary: String
    public let data: DataKind
    /// Default training settings (epochs, batch size, learning rate).
    public let epochs: Int
    public let batchSize: Int
    public let learningRate: Float
    /// The model's own command-line options.
    public let options: [ModelOption]
    /// The model, for these settings.
    public let build: @Sendable (ModelSettings) -> Model<Tensor, Int>
    /// The compiler's options (encoder size and activation), for these settings.
    public let compilerOptions: @Sendable (ModelSettings) -> CompilerOptions

    public init(
        name: String, summary: String, data: DataKind, epochs: Int, batchSize: Int, learningRate: Float, options: [ModelOption] = [],
        build: @escaping @Sendable (ModelSettings) -> Model<Tensor, Int>,
        compilerOptions: @escaping @Sendable (ModelSettings) -> CompilerOptions = { _ in CompilerOptions() }
    ) {
        self.name = name
        self.summary = summary
        self.data = data
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.options = options
        self.build = build
        self.compilerOptions = compilerOptions
    }

    /// The options as command-line flags.
    var flags: [Flag] {
        options.map { .value($0.name, $0.flagHelp) }
    }

    /// The settings for data of `dataSize` numbers per row (`data` says where from, in the
    /// error when no model here takes that many) and the flags given.
    func settings(dataSize: Int, of data: String, from arguments: ParsedArguments) throws -> ModelSettings {
        guard ModelSettings.dataSizes.contains(dataSize) else {
            throw UsageError("\(data): \(dataSize) numbers per row; a model here takes \(ModelSettings.dataSizes.lowerBound) to \(ModelSettings.dataSizes.upperBound)")
        }
        var values: [String: Int] = [:]
        for option in options {
            let fallback = option.defaultValue(dataSize)
            guard option.range.contains(fallback) else {
                throw UsageError("model '\(name)': the default of --\(option.name) for data of \(dataSize) numbers per row is \(fallback), outside \(option.range.lowerBound)...\(option.range.upperBound); give --\(option.name)")
            }
            values[option.name] = try arguments.integer(option.name, default: fallback, in: option.range)
        }
        return ModelSettings(dataSize: dataSize, values: values)
    }
}

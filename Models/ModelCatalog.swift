import Latent

/// Settings a shipped model is built with: from the command line or from a checkpoint.
public struct ModelSettings: Codable, Equatable, Sendable {
    /// Numbers per data row (784 for MNIST, 2 for the GMM's points).
    public var dataSize: Int
    /// Dimension of the continuous latent variable.
    public var latentDimension: Int
    /// Hidden units of the encoder and decoder networks.
    public var hidden: Int
    /// Mixture components (GMM).
    public var components: Int

    /// What is out of range, or nil: each setting must lie where the command line allows it
    /// (a checkpoint's settings are read back and checked the same way).
    public var firstProblem: String? {
        if !(1...(1 << 24)).contains(dataSize) { return "data size \(dataSize) is not within 1...16777216" }
        if !(1...4096).contains(latentDimension) { return "latent dimension \(latentDimension) is not within 1...4096" }
        if !(1...65536).contains(hidden) { return "hidden size \(hidden) is not within 1...65536" }
        if !(2...1000).contains(components) { return "components \(components) is not within 2...1000" }
        return nil
    }

    public init(dataSize: Int, latentDimension: Int = 20, hidden: Int = 400, components: Int = 3) {
        self.dataSize = dataSize
        self.latentDimension = latentDimension
        self.hidden = hidden
        self.components = components
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

/// A model shipped with Latent, trainable by name on the command line.
public struct ShippedModel: Sendable {
    /// The command-line name (`gmm`, `bernoulli-vae`).
    public let name: String
    public let summary: String
    public let data: DataKind
    /// Default training settings (epochs, batch size, learning rate).
    public let epochs: Int
    public let batchSize: Int
    public let learningRate: Float
    /// The model, for these settings.
    public let build: @Sendable (ModelSettings) -> Model<Tensor, Int>
    /// The compiler's options (encoder size and activation), for these settings.
    public let compilerOptions: @Sendable (ModelSettings) -> CompilerOptions

    public init(
        name: String, summary: String, data: DataKind, epochs: Int, batchSize: Int, learningRate: Float,
        build: @escaping @Sendable (ModelSettings) -> Model<Tensor, Int>,
        compilerOptions: @escaping @Sendable (ModelSettings) -> CompilerOptions
    ) {
        self.name = name
        self.summary = summary
        self.data = data
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.build = build
        self.compilerOptions = compilerOptions
    }
}

/// The shipped models. To add one, write a file like `GMM.swift` and add its line here.
public enum ModelCatalog {
    public static let all: [ShippedModel] = [
        gmm,
        gaussianVAE,
        bernoulliVAE,
        ppca,
    ]

    /// The model called `name`.
    public static func named(_ name: String) -> ShippedModel? { all.first { $0.name == name } }
}

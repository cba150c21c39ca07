import NN
import PPL
import TensorCore

/// Choices the amortized-inference compiler leaves to the user.
public struct CompilerOptions {
    /// Hidden layer sizes of each encoder (or of the shared trunk).
    public var hiddenSizes: [Int] = [400]
    /// Nonlinearity between encoder layers.
    public var activation: Activation = .relu
    /// One encoder trunk for all local sites with a linear head each, instead of one
    /// encoder per site.
    public var sharedTrunk = false
    /// Full-covariance normal heads (a Cholesky factor) for real vector sites.
    public var fullCovariance = false
    /// Sites to estimate by a point instead of a distribution: MAP for a global site, a
    /// deterministic encoder for a local one (with `beta = 0`, the plain autoencoder).
    public var pointEstimates: Set<String> = []
    /// Estimators forced per site (otherwise the compiler chooses).
    public var estimators: [String: Estimator] = [:]
    /// The user's own network per site, mapping the encoder input to the head's outputs.
    public var heads: [String: MLP] = [:]
    /// A whole hand-written guide, taking the model's inputs (generic SVI); replaces the compiler.
    public var guide: Model<Tensor, Int>?

    public init(hiddenSizes: [Int] = [400], activation: Activation = .relu) {
        self.hiddenSizes = hiddenSizes
        self.activation = activation
    }
}

/// A model or options the compiler cannot handle, with what to do instead.
public enum CompilerError: Error, CustomStringConvertible {
    case unsupportedSite(site: String, reason: String)
    case headSize(site: String, expected: Int, got: Int)
    case noLatentSites(model: String)

    public var description: String {
        switch self {
        case let .unsupportedSite(site, reason): return "site '\(site)': \(reason)"
        case let .headSize(site, expected, got): return "site '\(site)': the custom head must output \(expected) numbers per datapoint, it outputs \(got)"
        case let .noLatentSites(model): return "model '\(model)' has no latent sites: there is nothing to infer"
        }
    }
}

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
    /// Full-covariance normal guides (a Cholesky factor) for sites whose value is a vector.
    public var fullCovariance = false
    /// Sites to estimate by a point instead of a distribution: MAP for a global site, a
    /// deterministic encoder for a local one (with `beta = 0`, the plain autoencoder).
    public var pointEstimates: Set<String> = []
    /// Estimators forced per site (otherwise the compiler chooses). `.marginalized` sums a
    /// finite-support site out of the model instead of guiding it.
    public var estimators: [String: Estimator] = [:]
    /// The user's own network per local site, mapping the head's input to its outputs.
    public var heads: [String: MLP] = [:]
    /// For data in a `Table`: the columns the encoders see (all when nil). A column a guide
    /// should not see, such as labels the classifier must learn to predict, is left out.
    public var encoderColumns: [String]?
    /// Standardize what encoders see, feature by feature, with the training data's mean and
    /// standard deviation (stored with the parameters), so no one has to rescale their data.
    public var standardizesInputs = true

    public init(hiddenSizes: [Int] = [400], activation: Activation = .relu) {
        self.hiddenSizes = hiddenSizes
        self.activation = activation
    }

    /// The most numbers of upstream global latents a head is fed (larger globals, the weights
    /// of a Bayesian network say, are left out of the heads' inputs).
    public static let upstreamGlobalLimit = 1024
}

/// A model or options the compiler cannot handle, with what to do instead.
public enum CompilerError: Error, CustomStringConvertible {
    /// A site the compiler cannot guide, and why.
    case unsupportedSite(site: String, location: SourceLocation, reason: String)
    /// An observed site outside the data plate: its minibatches would not be scaled by N/M.
    case observedOutsideDataPlate(site: String, location: SourceLocation)
    /// A model without latent sites.
    case noLatentSites(model: String)
    /// A hand-written guide that does not match the model.
    case guideMismatch(site: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedSite(site, location, reason):
            return "site '\(site)' at \(location): \(reason)"
        case let .observedOutsideDataPlate(site, location):
            return "site '\(site)' at \(location) is observed outside the data plate, so minibatches would not be scaled by N/M; put it inside plate(\"data\", size: datasetSize, subsample: x) { ... }"
        case let .noLatentSites(model):
            return "model '\(model)' has no latent sites: there is nothing to infer"
        case let .guideMismatch(site, reason):
            return "site '\(site)': \(reason)"
        }
    }
}

import Synchronization
import TensorCore

/// A distribution given parameters or values it cannot accept, or asked for what it lacks.
public enum DistributionError: Error, CustomStringConvertible, Equatable {
    /// A parameter outside its domain: a scale <= 0, a probability outside [0, 1].
    case invalidParameter(distribution: String, parameter: String, index: [Int], value: Float, requirement: String)
    /// A value outside the support: a Bernoulli observation of 0.3, a negative count.
    case valueOutsideSupport(distribution: String, index: [Int], value: Float, support: String)
    /// Parameters whose shapes do not broadcast, or a value of the wrong shape.
    case shapeMismatch(distribution: String, message: String)
    /// `rsample` of a family with no reparameterization (Bernoulli, Categorical, Poisson).
    case notReparameterizable(distribution: String)
    /// No closed-form KL divergence is known for this pair; estimate it by Monte Carlo.
    case noClosedFormKL(p: String, q: String)

    public var description: String {
        switch self {
        case let .invalidParameter(distribution, parameter, index, value, requirement):
            return "\(distribution): parameter '\(parameter)' must be \(requirement), got \(value) at index \(describe(index))"
        case let .valueOutsideSupport(distribution, index, value, support):
            return "\(distribution): value \(value) at index \(describe(index)) is outside the support (\(support))"
        case let .shapeMismatch(distribution, message):
            return "\(distribution): \(message)"
        case let .notReparameterizable(distribution):
            return "\(distribution) has no reparameterized sampler; use sample() with a score-function estimator"
        case let .noClosedFormKL(p, q):
            return "no closed-form KL divergence is known for \(p) and \(q); estimate it by Monte Carlo"
        }
    }
}

/// Whether distributions check their parameters and values (on by default, as in Pyro).
/// Turn it off for speed once a model is known to be sound.
public enum DistributionValidation {
    private static let enabled = Atomic<Bool>(true)

    /// True when parameters and values are checked (and no `skipping` scope is active).
    public static var isEnabled: Bool {
        get { enabled.load(ordering: .relaxed) && !skipped }
        set { enabled.store(newValue, ordering: .relaxed) }
    }

    @TaskLocal static var skipped = false

    /// Runs `body` without checks, for code already run once with them (a training loop's later
    /// epochs see the same data rows and the same model as its first).
    public static func skipping<Result>(_ body: () throws -> Result) rethrows -> Result {
        try $skipped.withValue(true) { try body() }
    }
}

/// The multi-index of flat position `flat` in `shape`.
func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

/// Records `invalidParameter` for the first element of `parameter` outside `range`.
func validate(_ parameter: Tensor, _ name: String, of distribution: String, must range: ScalarRange) {
    guard DistributionValidation.isEnabled, let bad = range.firstViolation(in: parameter) else { return }
    recordDeferredError(DistributionError.invalidParameter(
        distribution: distribution, parameter: name, index: multiIndex(bad, in: parameter.shape),
        value: parameter.withElements { $0[bad] }, requirement: range.description))
}

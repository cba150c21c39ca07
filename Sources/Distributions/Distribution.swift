import TensorCore

/// A probability distribution over tensors, batched: `batchShape` indexes independent,
/// differently parameterized distributions; `eventShape` is the shape of one draw.
///
/// A value of shape `sampleShape + batchShape + eventShape` has `logProb` of shape
/// `sampleShape + batchShape`. Invalid parameters and values outside the support are
/// recorded as `DistributionError`s and thrown by the enclosing `checkingTensorErrors`
/// scope (every inference entry point runs model code in one); see `DistributionValidation`.
public protocol Distribution: SendableMetatype {
    /// Shape of the batch of independent distributions.
    var batchShape: [Int] { get }
    /// Shape of one draw.
    var eventShape: [Int] { get }
    /// The set of values with positive density.
    var support: Constraint { get }
    /// True when `rsample` gives draws differentiable with respect to the parameters.
    var hasReparameterizedSample: Bool { get }
    /// The log density (or log mass) of `value`, shape `value.shape` less `eventShape`.
    func logProb(_ value: Tensor) -> Tensor
    /// `logProb` before the event axes that `Independent` adds are summed: one term per
    /// element of an independent batch (per pixel of an image), for conditioning on some.
    func elementwiseLogProb(_ value: Tensor) -> Tensor
    /// Draws of shape `sampleShape + batchShape + eventShape`, not differentiable.
    func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor
    /// Draws whose gradient flows to the parameters (reparameterization trick).
    func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor
    /// `E[x]`, shape `batchShape + eventShape`.
    var mean: Tensor { get }
    /// `Var[x]` elementwise, shape `batchShape + eventShape`.
    var variance: Tensor { get }
    /// `-E[log p(x)]`, shape `batchShape`.
    func entropy() -> Tensor
    /// Every value of a finite support, shape `[K] + [1] * batchRank + eventShape`, to
    /// broadcast against the batch; nil for infinite supports.
    func enumerateSupport() -> Tensor?
    /// The same distribution with its parameters broadcast to `batchShape`.
    func expanded(to batchShape: [Int]) -> Self
    /// True for a point mass (a point estimate), which has no density to weigh draws by.
    var isPointMass: Bool { get }
}

extension Distribution {
    /// `logProb`: a distribution with no reinterpreted axes has nothing more to split.
    public func elementwiseLogProb(_ value: Tensor) -> Tensor { logProb(value) }

    /// Reparameterized families draw with `rsample` and cut the gradient.
    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        withoutGradient { rsample(sampleShape, using: &generator) }.detached
    }

    /// Families without a reparameterization record `DistributionError.notReparameterizable`.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        recordDeferredError(DistributionError.notReparameterizable(distribution: name))
        return sample(sampleShape, using: &generator)
    }

    public var hasReparameterizedSample: Bool { true }

    public var isPointMass: Bool { false }

    public func enumerateSupport() -> Tensor? { nil }

    /// Draws from the global generator (see `setRandomSeed`).
    public func sample(_ sampleShape: [Int] = []) -> Tensor {
        GlobalRandom.withGenerator { sample(sampleShape, using: &$0) }
    }

    /// Reparameterized draws from the global generator.
    public func rsample(_ sampleShape: [Int] = []) -> Tensor {
        GlobalRandom.withGenerator { rsample(sampleShape, using: &$0) }
    }

    /// Whether the values are discrete: a discrete support, or a finite one that
    /// `enumerateSupport` lists (a `FiniteDiscrete` over listed reals, one-hot vectors).
    package var hasDiscreteValues: Bool { support.isDiscrete || enumerateSupport() != nil }

    /// Standard deviation `sqrt(Var[x])`.
    public var standardDeviation: Tensor { sqrt(variance) }

    /// The last `count` batch dimensions reinterpreted as event dimensions (Pyro's `to_event`).
    public func independent(_ count: Int = 1) -> Independent<Self> {
        Independent(self, reinterpretedBatchRank: count)
    }

    /// The type's name, for messages.
    var name: String { String(describing: Self.self) }

    /// Shape of `sampleShape` draws.
    func drawShape(_ sampleShape: [Int]) -> [Int] { sampleShape + batchShape + eventShape }

    /// Records `valueOutsideSupport` for the first element of `value` outside the support.
    func validateValue(_ value: Tensor) {
        guard DistributionValidation.isEnabled else { return }
        support.validate(value, distribution: name)
    }
}

/// The batch shape of parameters `shapes` broadcast together; a mismatch is recorded.
func batchShape(_ distribution: String, _ parameters: [(String, [Int])]) -> [Int] {
    var shape: [Int] = []
    for (parameter, parameterShape) in parameters {
        guard let next = Shape.broadcast(shape, parameterShape) else {
            recordDeferredError(DistributionError.shapeMismatch(
                distribution: distribution,
                message: "parameter '\(parameter)' of shape \(describe(parameterShape)) does not broadcast with \(describe(shape))"))
            return shape
        }
        shape = next
    }
    return shape
}

func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

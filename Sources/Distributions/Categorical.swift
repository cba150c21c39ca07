import TensorCore

/// A distribution over the categories `0..<K` (the last axis of the parameters):
/// `log p(k) = log_softmax(l)_k`.
public struct Categorical: Distribution {
    /// Normalized log-probabilities, shape `batchShape + [K]`.
    public let logits: Tensor
    public let batchShape: [Int]

    /// Categorical with probabilities proportional to `probs` (last axis); entries must be
    /// nonnegative with a positive sum.
    public init(probs: Tensor) {
        validate(probs, "probs", of: "Categorical", must: .nonnegative)
        if DistributionValidation.isEnabled { validate(probs.detached.sum(axis: -1), "sum of probs", of: "Categorical", must: .positiveFinite) }
        // log 0 is -inf, whose derivative 1/0 met a zero gradient as 0/0: NaN for every entry.
        let positive = probs .> Tensor(0)
        let logProbs = select(positive, log(select(positive, probs, Tensor(1))), Tensor(-Float.infinity))
        self.init(normalizedLogits: logProbs - log(probs.sum(axis: -1, keepDims: true)))
    }

    /// Categorical with `P(k) = softmax(logits)_k`.
    public init(logits: Tensor) {
        validate(logits, "logits", of: "Categorical", must: .belowInfinity)
        if DistributionValidation.isEnabled { validate(logits.detached.max(axis: -1), "largest of logits", of: "Categorical", must: .finite) }
        self.init(normalizedLogits: logSoftmax(logits, axis: -1))
    }

    init(normalizedLogits: Tensor) {
        logits = normalizedLogits
        batchShape = Array(normalizedLogits.shape.dropLast())
    }

    /// Number of categories.
    public var categoryCount: Int { logits.shape.last ?? 0 }
    /// `softmax(logits)`, shape `batchShape + [K]`.
    public var probs: Tensor { exp(logits) }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .integerInterval(0, categoryCount - 1) }
    public var hasReparameterizedSample: Bool { false }

    /// `log p` of integer-valued `value` (shape `sampleShape + batchShape`).
    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        return logits.taking(alongLastAxis: value)
    }

    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        Tensor.randomCategorical(probabilities: probs.expanded(to: sampleShape + batchShape + [categoryCount]), using: &generator)
    }

    /// Undefined for categories (NaN), as in Pyro.
    public var mean: Tensor { Tensor.full(batchShape, .nan) }
    public var variance: Tensor { Tensor.full(batchShape, .nan) }
    /// `-sum_k p_k log p_k`, with `0 log 0 = 0`.
    public func entropy() -> Tensor { -(probs * select(probs .> Tensor(0), logits, Tensor(0))).sum(axis: -1) }
    /// `0, 1, ..., K - 1` shaped `[K] + [1] * batchRank`.
    public func enumerateSupport() -> Tensor? { Tensor.arange(categoryCount).reshaped(to: [categoryCount] + batchShape.map { _ in 1 }) }
    public func expanded(to batchShape: [Int]) -> Categorical { Categorical(normalizedLogits: logits.expanded(to: batchShape + [categoryCount])) }
}

/// A categorical draw coded as a one-hot vector (event shape `[K]`):
/// `log p(x) = sum_k x_k log_softmax(l)_k`.
public struct OneHotCategorical: Distribution {
    /// The same distribution over indices.
    public let categorical: Categorical

    /// One-hot categorical with probabilities proportional to `probs` (last axis).
    public init(probs: Tensor) { categorical = Categorical(probs: probs) }
    /// One-hot categorical with `P(k) = softmax(logits)_k`.
    public init(logits: Tensor) { categorical = Categorical(logits: logits) }

    public var batchShape: [Int] { categorical.batchShape }
    public var eventShape: [Int] { [categorical.categoryCount] }
    public var support: Constraint { .simplex }
    public var hasReparameterizedSample: Bool { false }

    public func logProb(_ value: Tensor) -> Tensor {
        if DistributionValidation.isEnabled,
           let bad = Constraint.boolean.firstViolation(in: value) ?? Constraint.simplex.firstViolation(in: value) {
            recordDeferredError(DistributionError.valueOutsideSupport(distribution: "OneHotCategorical", index: multiIndex(bad, in: value.shape), value: value.uncountedScalars[bad], support: "one-hot vectors"))
        }
        return select(value, categorical.logits, Tensor(0)).sum(axis: -1)
    }

    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        Tensor.oneHot(categorical.sample(sampleShape, using: &generator), classes: categorical.categoryCount)
    }

    public var mean: Tensor { categorical.probs }
    public var variance: Tensor { categorical.probs * (1 - categorical.probs) }
    public func entropy() -> Tensor { categorical.entropy() }
    /// The K one-hot vectors shaped `[K] + [1] * batchRank + [K]`.
    public func enumerateSupport() -> Tensor? {
        let k = categorical.categoryCount
        return Tensor.oneHot(Tensor.arange(k), classes: k).reshaped(to: [k] + batchShape.map { _ in 1 } + [k])
    }
    public func expanded(to batchShape: [Int]) -> OneHotCategorical {
        OneHotCategorical(categorical: categorical.expanded(to: batchShape))
    }

    init(categorical: Categorical) { self.categorical = categorical }
}

import TensorCore

/// A distribution over a finite list of values (numbers, vectors or matrices):
/// `P(x = values[k]) = softmax(logits)_k`. The guide of a latent site whose support the
/// compiler enumerates (a vector of binary causes, a one-hot category) has this form.
public struct FiniteDiscrete: Distribution {
    /// The values, shape `[K] + eventShape`.
    public let values: Tensor
    /// Normalized log-probabilities, shape `batchShape + [K]`.
    public let logits: Tensor
    public let batchShape: [Int]
    public let support: Constraint

    /// The distribution with `P(values[k]) = softmax(logits)_k`; `values` has shape
    /// `[K] + eventShape` and lies in `support`.
    public init(values: Tensor, logits: Tensor, support: Constraint = .real) {
        validate(logits, "logits", of: "FiniteDiscrete", must: .belowInfinity)
        if values.shape.first != logits.shape.last {
            recordDeferredError(DistributionError.shapeMismatch(distribution: "FiniteDiscrete", message: "\(values.shape.first ?? 0) values but \(logits.shape.last ?? 0) logits"))
        }
        // A value listed twice would be summed over twice where the support is enumerated.
        if DistributionValidation.isEnabled, let repeated = Self.firstRepeatedValue(values) {
            recordDeferredError(DistributionError.invalidParameter(distribution: "FiniteDiscrete", parameter: "values", index: [repeated], value: values.uncountedScalars[repeated * Swift.max(values.count / Swift.max(values.shape.first ?? 1, 1), 1)], requirement: "listed once each"))
        }
        self.values = values
        self.logits = logSoftmax(logits, axis: -1)
        batchShape = Array(logits.shape.dropLast())
        self.support = support
    }

    init(values: Tensor, normalizedLogits: Tensor, support: Constraint) {
        self.values = values
        logits = normalizedLogits
        batchShape = Array(normalizedLogits.shape.dropLast())
        self.support = support
    }

    /// The index of the first of `values`' entries (along the first axis) equal to an earlier one.
    static func firstRepeatedValue(_ values: Tensor) -> Int? {
        guard let count = values.shape.first, count > 1 else { return nil }
        let scalars = values.uncountedScalars, width = scalars.count / count
        var seen = Set<[Float]>()
        return (0..<count).first { !seen.insert(Array(scalars[($0 * width)..<(($0 + 1) * width)])).inserted }
    }

    /// Number of values.
    public var count: Int { values.shape.first ?? 0 }
    public var eventShape: [Int] { Array(values.shape.dropFirst()) }
    /// `softmax(logits)`, shape `batchShape + [K]`.
    public var probs: Tensor { exp(logits) }
    public var hasReparameterizedSample: Bool { false }

    /// Which of the values each event of `value` equals: shape `value batch + [K]`, 1 or 0.
    func matches(_ value: Tensor) -> Tensor {
        let eventRank = eventShape.count
        guard value.rank >= eventRank else {
            return .failure("FiniteDiscrete.logProb", "value of shape \(describe(value.shape)) is smaller than the event \(describe(eventShape))", shape: [count])
        }
        let candidates = value.unsqueezed(axis: value.rank - eventRank) .== values
        guard eventRank > 0 else { return candidates }
        let axes = Array((candidates.rank - eventRank)..<candidates.rank)
        return candidates.sum(axes: axes) .== Tensor(Float(eventShape.reduce(1, *)))
    }

    /// `logits_k` for the value `values[k]`; `-inf` for a value not in the list.
    public func logProb(_ value: Tensor) -> Tensor {
        let hits = matches(value)
        if DistributionValidation.isEnabled, let missing = hits.sum(axis: -1).uncountedScalars.firstIndex(of: 0) {
            // The offending number itself for values of one number each (NaN for vector events).
            let elements = value.uncountedScalars
            var offending = Float.nan
            if eventShape.isEmpty, elements.count == 1 { offending = elements[0] }
            if eventShape.isEmpty, elements.count == hits.count / count { offending = elements[missing] }
            recordDeferredError(DistributionError.valueOutsideSupport(distribution: "FiniteDiscrete", index: multiIndex(missing, in: Array(hits.shape.dropLast())), value: offending, support: "its \(count) listed values"))
        }
        return select(hits, logits, Tensor(0)).sum(axis: -1) + log(hits.sum(axis: -1))
    }

    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let index = Tensor.randomCategorical(probabilities: probs.expanded(to: sampleShape + batchShape + [count]), using: &generator)
        return values[index]
    }

    /// `sum_k p_k values[k]`.
    public var mean: Tensor { weightedValues(values) }
    /// `sum_k p_k (values[k] - mean)^2`.
    public var variance: Tensor { weightedValues(values * values) - square(mean) }
    /// `-sum_k p_k log p_k`.
    public func entropy() -> Tensor { -select(probs .> Tensor(0), probs * logits, Tensor(0)).sum(axis: -1) }
    /// The values shaped `[K] + [1] * batchRank + eventShape`.
    public func enumerateSupport() -> Tensor? { values.reshaped(to: [count] + batchShape.map { _ in 1 } + eventShape) }
    public func expanded(to batchShape: [Int]) -> FiniteDiscrete {
        FiniteDiscrete(values: values, normalizedLogits: logits.expanded(to: batchShape + [count]), support: support)
    }

    /// `sum_k p_k v_k` over the value axis, shape `batchShape + eventShape`.
    func weightedValues(_ v: Tensor) -> Tensor {
        let eventRank = eventShape.count
        let weights = probs.reshaped(to: probs.shape + [Int](repeating: 1, count: eventRank))
        return (weights * v).sum(axis: -eventRank - 1)
    }
}

import TensorCore

/// The Bernoulli distribution on {0, 1}, by probability or log-odds:
/// `log p(x) = x l - softplus(l)` with `l = logit(p)` (the negative binary cross-entropy,
/// stable for logits of any size).
public struct Bernoulli: Distribution, SummedLogProb {
    /// The log-odds `l = log p - log(1 - p)`.
    public let logits: Tensor
    /// The probability of 1, when given (otherwise `sigmoid(logits)`, computed on demand).
    let givenProbs: Tensor?
    public let batchShape: [Int]

    /// The probability of 1.
    public var probs: Tensor { givenProbs ?? sigmoid(logits) }

    /// Bernoulli with `P(x = 1) = probs`; `probs` must lie in [0, 1].
    public init(probs: Tensor) {
        validate(probs, "probs", of: "Bernoulli", must: .unitInterval)
        givenProbs = probs
        let safe = clamp(probs, min: Float.leastNormalMagnitude, max: 1 - Float.ulpOfOne / 2)
        logits = log(safe) - log1p(-safe)
        batchShape = probs.shape
    }

    /// Bernoulli with `P(x = 1) = sigmoid(logits)`.
    public init(logits: Tensor) {
        validate(logits, "logits", of: "Bernoulli", must: .finite)
        self.logits = logits
        givenProbs = nil
        batchShape = logits.shape
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .boolean }
    public var hasReparameterizedSample: Bool { false }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        return bernoulliLogLikelihood(logits: logits, values: value)
    }

    func logProb(_ value: Tensor, summingLast axes: Int) -> Tensor {
        validateValue(value)
        return bernoulliLogLikelihood(logits: logits, values: value, summingLast: axes)
    }

    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        Tensor.randomBernoulli(probabilities: probs.expanded(to: drawShape(sampleShape)), using: &generator)
    }

    public var mean: Tensor { probs }
    public var variance: Tensor { probs * (1 - probs) }
    /// `softplus(l) - p l`.
    public func entropy() -> Tensor { softplus(logits) - probs * logits }
    /// `[0, 1]` shaped `[2] + [1] * batchRank`.
    public func enumerateSupport() -> Tensor? { Tensor([0, 1]).reshaped(to: [2] + batchShape.map { _ in 1 }) }
    public func expanded(to batchShape: [Int]) -> Bernoulli { Bernoulli(logits: logits.expanded(to: batchShape)) }
}

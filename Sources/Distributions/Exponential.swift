import TensorCore

/// The exponential distribution with rate `r`: `log p(x) = log r - r x` for `x >= 0`.
public struct Exponential: Distribution {
    public let rate: Tensor
    public var batchShape: [Int] { rate.shape }

    /// Exponential(rate); the rate must be positive.
    public init(rate: Tensor) {
        self.rate = rate
        validate(rate, "rate", of: "Exponential", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .positive }

    public func logProb(_ value: Tensor) -> Tensor {
        if DistributionValidation.isEnabled, let bad = ScalarRange.nonnegative.firstViolation(in: value) {
            recordDeferredError(DistributionError.valueOutsideSupport(distribution: "Exponential", index: multiIndex(bad, in: value.shape), value: value.uncountedScalars[bad], support: "nonnegative reals"))
        }
        return log(rate) - rate * value
    }

    /// `-log(u) / r` with `u ~ U(0, 1)`.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        -log(Tensor.randomUniform(drawShape(sampleShape), using: &generator)) / rate
    }

    public var mean: Tensor { 1 / rate }
    public var variance: Tensor { 1 / (rate * rate) }
    /// `1 - log r`.
    public func entropy() -> Tensor { 1 - log(rate) }
    public func expanded(to batchShape: [Int]) -> Exponential { Exponential(rate: rate.expanded(to: batchShape)) }
}

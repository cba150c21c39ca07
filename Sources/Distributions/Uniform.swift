import TensorCore

/// The uniform distribution on `[low, high]`: `log p(x) = -log(high - low)` inside.
public struct Uniform: Distribution {
    public let low: Tensor
    public let high: Tensor
    public let batchShape: [Int]

    /// Uniform(low, high); `low < high` elementwise.
    public init(_ low: Tensor, _ high: Tensor) {
        self.low = low
        self.high = high
        batchShape = Distributions.batchShape("Uniform", [("low", low.shape), ("high", high.shape)])
        validate(high - low, "high - low", of: "Uniform", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .interval(low, high) }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        return -log(high - low) + Tensor.zeros(value.shape)
    }

    /// `low + (high - low) u` with `u ~ U(0, 1)`.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        low + (high - low) * Tensor.randomUniform(drawShape(sampleShape), using: &generator)
    }

    public var mean: Tensor { ((low + high) / 2).expanded(to: batchShape) }
    public var variance: Tensor { (square(high - low) / 12).expanded(to: batchShape) }
    /// `log(high - low)`.
    public func entropy() -> Tensor { log(high - low).expanded(to: batchShape) }
    public func expanded(to batchShape: [Int]) -> Uniform { Uniform(low.expanded(to: batchShape), high.expanded(to: batchShape)) }
}

import TensorCore

/// A point mass at `value`: `log p(x) = logDensity` if `x = value`, `-inf` otherwise.
/// Used for point estimates (MAP) of latent sites; draws are `value` itself.
public struct Delta: Distribution {
    public let value: Tensor
    /// Log density returned at the point (a Jacobian term when the point is transformed).
    public let logDensity: Tensor
    /// Trailing axes of `value` that form one event.
    public let eventRank: Int

    /// The point mass at `value`, whose last `eventRank` axes form one event.
    public init(_ value: Tensor, logDensity: Tensor = 0, eventRank: Int = 0) {
        self.value = value
        self.logDensity = logDensity
        self.eventRank = Swift.min(Swift.max(eventRank, 0), value.rank)
    }

    public var batchShape: [Int] { Array(value.shape.dropLast(eventRank)) }
    public var eventShape: [Int] { Array(value.shape.suffix(eventRank)) }
    public var support: Constraint { .real }
    public var isPointMass: Bool { true }

    public func logProb(_ x: Tensor) -> Tensor {
        var matches = x .== value
        if eventRank > 0 { matches = matches.sum(axes: Array((matches.rank - eventRank)..<matches.rank)) .== Tensor(Float(eventShape.reduce(1, *))) }
        return log(matches) + logDensity
    }

    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        value.expanded(to: drawShape(sampleShape))
    }

    public var mean: Tensor { value }
    public var variance: Tensor { Tensor.zeros(value.shape) }
    public func entropy() -> Tensor { Tensor.zeros(batchShape) }
    public func expanded(to batchShape: [Int]) -> Delta { Delta(value.expanded(to: batchShape + eventShape), logDensity: logDensity, eventRank: eventRank) }
}

import TensorCore

/// A base distribution pushed through a bijector `y = f(x)`:
/// `log p(y) = log p_base(f^-1(y)) - log |det df/dx|`.
public struct TransformedDistribution<Base: Distribution>: Distribution {
    public let base: Base
    public let bijector: any Bijector

    /// The law of `bijector.forward(x)` for `x ~ base`.
    public init(_ base: Base, _ bijector: any Bijector) {
        self.base = base
        self.bijector = bijector
    }

    public var batchShape: [Int] { Array(base.batchShape.dropLast(Swift.max(bijector.domainEventRank - base.eventShape.count, 0))) }
    public var eventShape: [Int] {
        let extra = Swift.max(bijector.domainEventRank - base.eventShape.count, 0)
        return bijector.forwardShape(Array(base.batchShape.suffix(extra)) + base.eventShape)
    }
    /// The bijector's image of the base's support.
    public var support: Constraint { bijector.codomain(of: base.support) }
    public var hasReparameterizedSample: Bool { base.hasReparameterizedSample }

    public func logProb(_ value: Tensor) -> Tensor {
        let x = bijector.inverse(value)
        var baseLogProb = base.logProb(x)
        var jacobian = bijector.logAbsDetJacobian(x, value)
        let extra = base.eventShape.count - bijector.domainEventRank
        if extra > 0 { jacobian = jacobian.sum(axes: Array((jacobian.rank - extra)..<jacobian.rank)) }
        if extra < 0 { baseLogProb = baseLogProb.sum(axes: Array((baseLogProb.rank + extra)..<baseLogProb.rank)) }
        return baseLogProb - jacobian
    }

    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        bijector.forward(base.sample(sampleShape, using: &generator))
    }

    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        bijector.forward(base.rsample(sampleShape, using: &generator))
    }

    /// No closed form in general: NaN (estimate by sampling).
    public var mean: Tensor { Tensor.full(batchShape + eventShape, .nan) }
    /// No closed form in general: NaN (estimate by sampling).
    public var variance: Tensor { Tensor.full(batchShape + eventShape, .nan) }
    /// No closed form in general: NaN (estimate by sampling).
    public func entropy() -> Tensor { Tensor.full(batchShape, .nan) }
    public func expanded(to batchShape: [Int]) -> TransformedDistribution<Base> {
        let extra = Swift.max(bijector.domainEventRank - base.eventShape.count, 0)
        return TransformedDistribution(base.expanded(to: batchShape + Array(base.batchShape.suffix(extra))), bijector)
    }
}

import TensorCore

/// A base distribution pushed through a bijector `y = f(x)`:
/// `log p(y) = log p_base(f^-1(y)) - log |det df/dx|`.
public struct TransformedDistribution<Base: Distribution>: Distribution {
    public let base: Base
    public let bijector: any Bijector
    /// The last draw `y` and the `x` it was made from: `logProb(y)` reads `x` instead of
    /// inverting `y`, which loses it where the bijector saturates in float32 (a share of a
    /// simplex, a sigmoid near 1). A guide scores its own draws this way.
    let lastDraw = DrawMemory()

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
    public var isPointMass: Bool { base.isPointMass }

    public func logProb(_ value: Tensor) -> Tensor {
        let x = lastDraw.preimage(of: value) ?? bijector.inverse(value)
        var baseLogProb = base.logProb(x)
        var jacobian = bijector.logAbsDetJacobian(x, value)
        let extra = base.eventShape.count - bijector.domainEventRank
        if extra > 0 { jacobian = jacobian.sum(axes: Array((jacobian.rank - extra)..<jacobian.rank)) }
        if extra < 0 { baseLogProb = baseLogProb.sum(axes: Array((baseLogProb.rank + extra)..<baseLogProb.rank)) }
        return baseLogProb - jacobian
    }

    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        lastDraw.remember(base.sample(sampleShape, using: &generator), bijector.forward)
    }

    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        lastDraw.remember(base.rsample(sampleShape, using: &generator), bijector.forward)
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

/// One draw `y = f(x)` of a transformed distribution, kept with its `x`.
final class DrawMemory {
    private var draw: (x: Tensor, y: Tensor)?

    /// `f(x)`, remembered with `x`.
    func remember(_ x: Tensor, _ forward: (Tensor) -> Tensor) -> Tensor {
        let y = forward(x)
        draw = (x, y)
        return y
    }

    /// The `x` of `value` when `value` is the remembered draw itself.
    func preimage(of value: Tensor) -> Tensor? {
        guard let draw, draw.y.isIdentical(to: value) else { return nil }
        return draw.x
    }
}

import TensorCore

/// The normal distribution `N(loc, scale^2)`:
/// `log N(x; mu, sigma^2) = -((x - mu)/sigma)^2/2 - log sigma - log(2 pi)/2`.
public struct Normal: Distribution {
    public let loc: Tensor
    public let scale: Tensor
    public let batchShape: [Int]

    /// `N(loc, scale^2)`; `scale` must be positive.
    public init(_ loc: Tensor, _ scale: Tensor) {
        self.loc = loc
        self.scale = scale
        batchShape = Distributions.batchShape("Normal", [("loc", loc.shape), ("scale", scale.shape)])
        validate(loc, "loc", of: "Normal", must: .finite)
        validate(scale, "scale", of: "Normal", must: .positiveFinite)
    }

    /// `N(loc, scale^2)`.
    public init(loc: Tensor, scale: Tensor) { self.init(loc, scale) }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .real }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        let z = (value - loc) / scale
        return -0.5 * z * z - log(scale) - 0.5 * logTwoPi
    }

    /// `loc + scale * eps` with `eps ~ N(0, 1)`.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        loc + scale * Tensor.randomNormal(drawShape(sampleShape), using: &generator)
    }

    public var mean: Tensor { loc.expanded(to: batchShape) }
    public var variance: Tensor { (scale * scale).expanded(to: batchShape) }
    /// `log(2 pi e sigma^2) / 2`.
    public func entropy() -> Tensor { (0.5 + 0.5 * logTwoPi + log(scale)).expanded(to: batchShape) }
    public func expanded(to batchShape: [Int]) -> Normal { Normal(loc.expanded(to: batchShape), scale.expanded(to: batchShape)) }
}

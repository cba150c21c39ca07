import Foundation
import TensorCore

/// The Laplace distribution: `log p(x) = -log(2 b) - |x - mu| / b`.
public struct Laplace: Distribution {
    public let loc: Tensor
    public let scale: Tensor
    public let batchShape: [Int]

    /// Laplace(loc, scale); the scale must be positive.
    public init(_ loc: Tensor, _ scale: Tensor) {
        self.loc = loc
        self.scale = scale
        batchShape = Distributions.batchShape("Laplace", [("loc", loc.shape), ("scale", scale.shape)])
        validate(loc, "loc", of: "Laplace", must: .finite)
        validate(scale, "scale", of: "Laplace", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .real }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        return -log(2 * scale) - abs(value - loc) / scale
    }

    /// `mu - b sign(u) log(1 - 2|u|)` with `u ~ U(-1/2, 1/2)`.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let u = Tensor.randomUniform(drawShape(sampleShape), using: &generator) - 0.5
        let sign = u.mapped { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        return loc - scale * sign * log1p(-2 * abs(u))
    }

    public var mean: Tensor { loc.expanded(to: batchShape) }
    public var variance: Tensor { (2 * scale * scale).expanded(to: batchShape) }
    /// `1 + log(2 b)`.
    public func entropy() -> Tensor { (1 + log(2 * scale)).expanded(to: batchShape) }
    public func expanded(to batchShape: [Int]) -> Laplace { Laplace(loc.expanded(to: batchShape), scale.expanded(to: batchShape)) }
}

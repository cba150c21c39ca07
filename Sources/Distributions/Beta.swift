import TensorCore

/// The beta distribution on [0, 1] with concentrations `a` (of 1) and `b` (of 0):
/// `log p(x) = (a - 1) log x + (b - 1) log(1 - x) - log B(a, b)`.
public struct Beta: Distribution {
    public let concentration1: Tensor
    public let concentration0: Tensor
    public let batchShape: [Int]

    /// Beta(concentration1, concentration0); both must be positive.
    public init(_ concentration1: Tensor, _ concentration0: Tensor) {
        self.concentration1 = concentration1
        self.concentration0 = concentration0
        batchShape = Distributions.batchShape("Beta", [("concentration1", concentration1.shape), ("concentration0", concentration0.shape)])
        validate(concentration1, "concentration1", of: "Beta", must: .positiveFinite)
        validate(concentration0, "concentration0", of: "Beta", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .unitInterval }

    /// The Dirichlet's log density of (x, 1 - x) with concentrations (a, b).
    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        let shape = Shape.broadcast(batchShape, value.shape) ?? value.shape
        let x = value.expanded(to: shape)
        return dirichletLogDensity(Tensor.stack([x, 1 - x], axis: -1), Tensor.stack([concentration1.expanded(to: shape), concentration0.expanded(to: shape)], axis: -1))
    }

    /// `x / (x + y)` for independent Gamma(a, 1) and Gamma(b, 1) draws (implicit gradients),
    /// as `sigmoid(log x - log y)`, so that draws too small for a float give no 0 / 0.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let logX = logStandardGamma(concentration1.expanded(to: batchShape), sampleShape, using: &generator)
        let logY = logStandardGamma(concentration0.expanded(to: batchShape), sampleShape, using: &generator)
        return clamp(sigmoid(logX - logY), min: Float.leastNormalMagnitude, max: 1 - Float.ulpOfOne / 2)
    }

    public var mean: Tensor { (concentration1 / (concentration1 + concentration0)).expanded(to: batchShape) }
    /// `a b / ((a + b)^2 (a + b + 1))`.
    public var variance: Tensor {
        let total = concentration1 + concentration0
        return (concentration1 * concentration0 / (total * total * (total + 1))).expanded(to: batchShape)
    }
    /// `log B(a, b) - (a - 1) psi(a) - (b - 1) psi(b) + (a + b - 2) psi(a + b)`.
    public func entropy() -> Tensor { dirichletEntropy(pair) }

    /// The two concentrations along a last axis: the Beta as the Dirichlet of K = 2.
    var pair: Tensor { Tensor.stack([concentration1.expanded(to: batchShape), concentration0.expanded(to: batchShape)], axis: -1) }
    public func expanded(to batchShape: [Int]) -> Beta { Beta(concentration1.expanded(to: batchShape), concentration0.expanded(to: batchShape)) }
}

import TensorCore

/// The multivariate normal `N(mu, L L^T)` with Cholesky factor `L` (last two axes):
/// `log p(x) = -|L^-1 (x - mu)|^2 / 2 - sum_i log L_ii - D log(2 pi) / 2`.
public struct MultivariateNormal: Distribution {
    public let loc: Tensor
    /// Lower-triangular `L` with positive diagonal, `Sigma = L L^T`.
    public let scaleTril: Tensor
    public let batchShape: [Int]

    /// `N(loc, scaleTril scaleTril^T)`; `scaleTril` must be lower triangular with a positive diagonal.
    public init(loc: Tensor, scaleTril: Tensor) {
        let d = loc.shape.last ?? 0
        batchShape = Distributions.batchShape("MultivariateNormal", [("loc", Array(loc.shape.dropLast())), ("scaleTril", Array(scaleTril.shape.dropLast(2)))])
        if scaleTril.rank < 2 || scaleTril.shape.suffix(2) != [d, d] {
            recordDeferredError(DistributionError.shapeMismatch(distribution: "MultivariateNormal", message: "scaleTril of shape \(describe(scaleTril.shape)) is not [..., \(d), \(d)] for loc of shape \(describe(loc.shape))"))
        } else if DistributionValidation.isEnabled, let bad = Constraint.lowerCholesky.firstViolation(in: scaleTril) {
            recordDeferredError(DistributionError.invalidParameter(distribution: "MultivariateNormal", parameter: "scaleTril", index: multiIndex(bad, in: scaleTril.shape), value: scaleTril.uncountedScalars[bad], requirement: "lower triangular with a positive diagonal"))
        }
        validate(loc, "loc", of: "MultivariateNormal", must: .finite)
        self.loc = loc
        self.scaleTril = scaleTril
    }

    /// `N(loc, diag(scale^2))`: independent coordinates with standard deviations `scale`.
    public init(loc: Tensor, scaleDiagonal: Tensor) {
        let d = scaleDiagonal.shape.last ?? 0
        self.init(loc: loc, scaleTril: scaleDiagonal.unsqueezed(axis: -1) * identity(d))
    }

    var dimension: Int { loc.shape.last ?? 0 }
    public var eventShape: [Int] { [dimension] }
    public var support: Constraint { .real }

    /// `sum_i log L_ii`, shape `batchShape`.
    var halfLogDeterminant: Tensor { log((scaleTril * identity(dimension)).sum(axis: -1)).sum(axis: -1) }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        let difference = value - loc
        let shape = Array(difference.shape.dropLast())
        let factor = scaleTril.expanded(to: shape + [dimension, dimension])
        let whitened = triangularSolve(factor, difference.unsqueezed(axis: -1))
        return -0.5 * square(whitened).sum(axes: [-2, -1]) - halfLogDeterminant - 0.5 * Float(dimension) * logTwoPi
    }

    /// `mu + L eps` with `eps ~ N(0, I)`.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let epsilon = Tensor.randomNormal(drawShape(sampleShape), using: &generator)
        return loc + matmul(scaleTril, epsilon.unsqueezed(axis: -1)).reshaped(to: drawShape(sampleShape))
    }

    public var mean: Tensor { loc.expanded(to: batchShape + eventShape) }
    /// The diagonal of `L L^T`: row sums of `L^2`.
    public var variance: Tensor { square(scaleTril).sum(axis: -1).expanded(to: batchShape + eventShape) }
    /// `D (1 + log 2 pi) / 2 + sum_i log L_ii`.
    public func entropy() -> Tensor { (0.5 * Float(dimension) * (1 + logTwoPi) + halfLogDeterminant).expanded(to: batchShape) }
    public func expanded(to batchShape: [Int]) -> MultivariateNormal {
        MultivariateNormal(loc: loc.expanded(to: batchShape + eventShape), scaleTril: scaleTril.expanded(to: batchShape + [dimension, dimension]))
    }
}

/// The `n x n` identity matrix.
func identity(_ n: Int) -> Tensor {
    Tensor(shape: [n, n], scalars: (0..<(n * n)).map { $0 % n == $0 / n ? 1 : 0 })
}

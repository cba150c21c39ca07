import TensorCore

/// The Dirichlet distribution on the simplex (last axis, K entries):
/// `log p(x) = sum_k (a_k - 1) log x_k + log Gamma(sum_k a_k) - sum_k log Gamma(a_k)`.
public struct Dirichlet: Distribution {
    public let concentration: Tensor
    public let batchShape: [Int]

    /// Dirichlet(concentration); entries must be positive.
    public init(_ concentration: Tensor) {
        self.concentration = concentration
        batchShape = Array(concentration.shape.dropLast())
        if concentration.rank == 0 {
            recordDeferredError(DistributionError.shapeMismatch(distribution: "Dirichlet", message: "its concentration is a single number; its last axis holds one concentration per category (Tensor([a1, ..., aK]))"))
        }
        validate(concentration, "concentration", of: "Dirichlet", must: .positive)
    }

    public var eventShape: [Int] { [concentration.shape.last ?? 0] }
    public var support: Constraint { .simplex }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        return dirichletLogDensity(value, concentration)
    }

    /// Independent Gamma(a_k, 1) draws (implicit gradients), normalized to sum to 1, from their
    /// logarithms less the row's largest, so that draws too small for a float give no 0 / 0
    /// (and divided by their sum, so that a row sums to 1 to the float's precision).
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let logDraws = logStandardGamma(concentration, sampleShape, using: &generator)
        let scaled = exp(logDraws - logDraws.detached.max(axis: -1, keepDims: true))
        return scaled / scaled.sum(axis: -1, keepDims: true)
    }

    public var mean: Tensor { concentration / concentration.sum(axis: -1, keepDims: true) }
    /// `a_k (a_0 - a_k) / (a_0^2 (a_0 + 1))` with `a_0 = sum_k a_k`.
    public var variance: Tensor {
        let total = concentration.sum(axis: -1, keepDims: true)
        return concentration * (total - concentration) / (total * total * (total + 1))
    }
    /// `log B(a) + (a_0 - K) psi(a_0) - sum_k (a_k - 1) psi(a_k)`.
    public func entropy() -> Tensor {
        let a = concentration, total = a.sum(axis: -1)
        let k = Float(a.shape.last ?? 0)
        return logMultivariateBeta(a) + (total - k) * digamma(total) - ((a - 1) * digamma(a)).sum(axis: -1)
    }
    public func expanded(to batchShape: [Int]) -> Dirichlet { Dirichlet(concentration.expanded(to: batchShape + eventShape)) }
}

/// `sum_k (a_k - 1) log x_k - log B(a)` over the last axis, written so that large concentrations
/// keep their digits: each power relative to the mean `p_k = a_k / A`, and `log B` by Stirling's
/// remainder R, `(a - 1) log(x / p) + (K - 1/2) log A - sum log(a_k) / 2 - (K - 1) log(2 pi) / 2
/// + R(A) - sum R(a_k)` (at a = b = 1e5 the log Gammas near 1e6 cancelled to 0.17 nats). A power
/// whose exponent is 0 is 1, also at an edge of the simplex. The Beta is its case K = 2.
func dirichletLogDensity(_ x: Tensor, _ a: Tensor) -> Tensor {
    let k = Float(a.shape.last ?? 1)
    let total = a.sum(axis: -1)
    let powers = xLogY(a - 1, x * a.sum(axis: -1, keepDims: true) / a).sum(axis: -1)
    return powers + (k - 0.5) * log(total) - 0.5 * log(a).sum(axis: -1) - 0.5 * (k - 1) * logTwoPi
        + logGammaRemainder(total) - logGammaRemainder(a).sum(axis: -1)
}

/// `log B(a) = sum_k log Gamma(a_k) - log Gamma(A)` over the last axis (A = sum_k a_k), by
/// Stirling's remainder R so that large concentrations keep their digits:
/// `sum (a_k - 1/2) log(a_k / A) - (K - 1) log(A) / 2 + (K - 1) log(2 pi) / 2 + sum R(a_k) - R(A)`.
func logMultivariateBeta(_ a: Tensor) -> Tensor {
    let halfGaps = 0.5 * Float((a.shape.last ?? 1) - 1)
    let total = a.sum(axis: -1)
    return ((a - 0.5) * log(a / a.sum(axis: -1, keepDims: true))).sum(axis: -1) - halfGaps * log(total) + halfGaps * logTwoPi
        + logGammaRemainder(a).sum(axis: -1) - logGammaRemainder(total)
}

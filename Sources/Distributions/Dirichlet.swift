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
        validate(concentration, "concentration", of: "Dirichlet", must: .positiveFinite)
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
        // An entry below the smallest normal float is raised to it, as Gamma's and Beta's draws
        // are: an exact 0 lies outside the support (log-density +inf at a = 0.01).
        let scaled = exp(logDraws - logDraws.detached.max(axis: -1, keepDims: true))
        return clamp(scaled / scaled.sum(axis: -1, keepDims: true), min: Float.leastNormalMagnitude)
    }

    public var mean: Tensor { concentration / concentration.sum(axis: -1, keepDims: true) }
    /// `a_k (a_0 - a_k) / (a_0^2 (a_0 + 1))` with `a_0 = sum_k a_k`.
    public var variance: Tensor {
        let total = concentration.sum(axis: -1, keepDims: true)
        return concentration * (total - concentration) / (total * total * (total + 1))
    }
    /// `log B(a) + (a_0 - K) psi(a_0) - sum_k (a_k - 1) psi(a_k)`.
    public func entropy() -> Tensor { dirichletEntropy(concentration) }
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

/// The Dirichlet entropy over the last axis, `log B(a) + (A - K) psi(A) - sum_k (a_k - 1)
/// psi(a_k)`, with Stirling's remainder R (log Gamma(x) = (x - 1/2) log x - x + log(2 pi)/2 +
/// R(x), psi(x) = log x - 1/(2x) + R'(x)): the terms near a log a cancel by hand, leaving
/// `sum log(a_k) / 2 + (1/2 - K) log A + (K - 1) log(2 pi) / 2 + sum (a_k - 1) / (2 a_k) -
/// (A - K) / (2A) + sum R(a_k) - R(A) + (A - K) R'(A) - sum (a_k - 1) R'(a_k)` (float32 had
/// lost 0.17 nats at a = (1e5, 1e5, 1e5)). The Beta is its case K = 2.
func dirichletEntropy(_ a: Tensor) -> Tensor {
    let k = Float(a.shape.last ?? 1)
    let total = a.sum(axis: -1)
    let logs = 0.5 * log(a).sum(axis: -1) + (0.5 - k) * log(total) + 0.5 * (k - 1) * logTwoPi
    let fractions = ((a - 1) / (2 * a)).sum(axis: -1) - (total - k) / (2 * total)
    let remainders = logGammaRemainder(a).sum(axis: -1) - logGammaRemainder(total)
        + (total - k) * logGammaRemainderDerivative(total) - ((a - 1) * logGammaRemainderDerivative(a)).sum(axis: -1)
    return logs + fractions + remainders
}

/// KL(Dir(a) || Dir(b)) over the last axis, `log B(b) - log B(a) + sum_k (a_k - b_k) (psi(a_k) -
/// psi(A))`, with Stirling's remainder as in `dirichletEntropy`: `sum (b_k - 1/2) log(n_k / m_k)
/// - (K - 1) log(B / A) / 2` for means m = a / A and n = b / B, where n_k / m_k = 1 + d_k /
/// (a_k B) with d_k = b_k A - a_k B, plus fractions and remainders (float32 read 0.0337 for
/// 0.0250 at a = (1e5, 1e5), b = (1e5, 1.001e5)). The Beta is its case K = 2.
func dirichletKL(_ a: Tensor, _ b: Tensor) -> Tensor {
    let k = Float(Swift.max(a.shape.last ?? 1, b.shape.last ?? 1))
    let total = a.sum(axis: -1), other = b.sum(axis: -1)
    let (rowTotal, rowOther) = (total.unsqueezed(axis: -1), other.unsqueezed(axis: -1))
    // d_k = b_k (A - a_k) - a_k (B - b_k): the products b_k a_k, which cancel, are never
    // formed; for K = 2 the rest of each row is the other entry, exactly.
    func rest(_ c: Tensor, _ rowSum: Tensor) -> Tensor {
        k == 2 ? Tensor.concatenate([c.slice(axis: -1, 1..<2), c.slice(axis: -1, 0..<1)], axis: -1) : rowSum - c
    }
    let d = b * rest(a, rowTotal) - a * rest(b, rowOther)
    // sum_k b_k log(1 + u_k), u_k = d_k / (a_k B), as sum_k b_k (log(1 + u_k) - u_k) + u_k d_k / A:
    // the first-order terms b_k u_k, each of the size b_k u_k and summing to nearly nothing,
    // cancel by hand (sum_k d_k = 0), leaving terms of second order.
    let u = d / (a * rowOther)
    let logRatios = logOnePlus(u, ratio: (b / rowOther) / (a / rowTotal))
    let logs = (b * (logRatios - u) + u * d / rowTotal - 0.5 * logRatios).sum(axis: -1) - 0.5 * (k - 1) * logRatio(other, total)
    let fractions = ((b - a) / (2 * a)).sum(axis: -1) - (other - total) / (2 * total)
    let remainders = (logGammaRemainder(b) - logGammaRemainder(a) + (a - b) * logGammaRemainderDerivative(a)).sum(axis: -1)
        - logGammaRemainder(other) + logGammaRemainder(total) + (other - total) * logGammaRemainderDerivative(total)
    return logs + fractions + remainders
}

import Synchronization
import TensorCore

/// `KL(p || q) = E_p[log p(x) - log q(x)]` in closed form, looked up by the pair of types.
///
/// Throws `DistributionError.noClosedFormKL` when the registry has no formula for the pair,
/// so that an ELBO can fall back to a Monte Carlo estimate for that site. `Independent`
/// pairs with the same reinterpreted rank use their bases' formula, summed over the event.
public func klDivergence(_ p: any Distribution, _ q: any Distribution) throws -> Tensor {
    if let p = p as? any ReinterpretedDistribution, let q = q as? any ReinterpretedDistribution {
        guard p.reinterpretedBatchRank == q.reinterpretedBatchRank else {
            throw DistributionError.noClosedFormKL(p: describeType(p), q: describeType(q))
        }
        let inner = try klDivergence(p.baseDistribution, q.baseDistribution)
        let rank = p.reinterpretedBatchRank
        return rank == 0 ? inner : inner.sum(axes: Array((inner.rank - rank)..<inner.rank))
    }
    guard let formula = KLRegistry.formula(type(of: p), type(of: q)) else {
        throw DistributionError.noClosedFormKL(p: describeType(p), q: describeType(q))
    }
    return formula(p, q)
}

/// True when `klDivergence(p, q)` has a closed form.
public func hasClosedFormKL(_ p: any Distribution, _ q: any Distribution) -> Bool {
    if let p = p as? any ReinterpretedDistribution, let q = q as? any ReinterpretedDistribution {
        return p.reinterpretedBatchRank == q.reinterpretedBatchRank && hasClosedFormKL(p.baseDistribution, q.baseDistribution)
    }
    return KLRegistry.formula(type(of: p), type(of: q)) != nil
}

/// Adds (or replaces) the closed-form KL divergence for the pair of types `P`, `Q`.
public func registerKL<P: Distribution, Q: Distribution>(_ p: P.Type, _ q: Q.Type, _ formula: @escaping @Sendable (P, Q) -> Tensor) {
    KLRegistry.register(p, q, formula)
}

private func describeType(_ d: Any) -> String { String(describing: type(of: d)) }

/// The table of closed-form KL divergences, keyed by the pair of distribution types.
enum KLRegistry {
    typealias Formula = @Sendable (any Distribution, any Distribution) -> Tensor

    struct Key: Hashable {
        let p: ObjectIdentifier
        let q: ObjectIdentifier
    }

    private static let table = Mutex<[Key: Formula]>(builtIn())

    static func formula(_ p: any Distribution.Type, _ q: any Distribution.Type) -> Formula? {
        table.withLock { $0[Key(p: ObjectIdentifier(p), q: ObjectIdentifier(q))] }
    }

    static func register<P: Distribution, Q: Distribution>(_ p: P.Type, _ q: Q.Type, _ formula: @escaping @Sendable (P, Q) -> Tensor) {
        table.withLock { $0[Key(p: ObjectIdentifier(p), q: ObjectIdentifier(q))] = wrap(formula) }
    }

    private static func wrap<P: Distribution, Q: Distribution>(_ formula: @escaping @Sendable (P, Q) -> Tensor) -> Formula {
        { p, q in formula(p as! P, q as! Q) }
    }

    private static func entry<P: Distribution, Q: Distribution>(_ p: P.Type, _ q: Q.Type, _ formula: @escaping @Sendable (P, Q) -> Tensor) -> (Key, Formula) {
        (Key(p: ObjectIdentifier(p), q: ObjectIdentifier(q)), wrap(formula))
    }

    private static func builtIn() -> [Key: Formula] {
        Dictionary(uniqueKeysWithValues: [
            entry(Normal.self, Normal.self, normalNormal),
            entry(MultivariateNormal.self, MultivariateNormal.self, multivariateNormal),
            entry(MultivariateNormal.self, Independent<Normal>.self, multivariateNormalDiagonal),
            entry(Categorical.self, Categorical.self, categorical),
            entry(OneHotCategorical.self, OneHotCategorical.self) { categorical($0.categorical, $1.categorical) },
            entry(Bernoulli.self, Bernoulli.self, bernoulli),
            entry(Beta.self, Beta.self, beta),
            entry(Gamma.self, Gamma.self, gamma),
            entry(Dirichlet.self, Dirichlet.self, dirichlet),
            entry(Exponential.self, Exponential.self, exponential),
            entry(Laplace.self, Laplace.self, laplace),
        ])
    }

    /// `log(s_q / s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2`.
    static func normalNormal(_ p: Normal, _ q: Normal) -> Tensor {
        let ratio = p.scale / q.scale
        let difference = (p.loc - q.loc) / q.scale
        return 0.5 * (ratio * ratio + difference * difference - 1) - log(ratio)
    }

    /// `(|L_q^-1 L_p|_F^2 + |L_q^-1 (m_q - m_p)|^2 - D) / 2 + log det L_q - log det L_p`.
    static func multivariateNormal(_ p: MultivariateNormal, _ q: MultivariateNormal) -> Tensor {
        let d = p.dimension
        let batch = Shape.broadcast(p.batchShape, q.batchShape) ?? p.batchShape
        let lq = q.scaleTril.expanded(to: batch + [d, d])
        let traceTerm = square(triangularSolve(lq, p.scaleTril.expanded(to: batch + [d, d]))).sum(axes: [-2, -1])
        let difference = (q.loc - p.loc).expanded(to: batch + [d]).unsqueezed(axis: -1)
        let mahalanobis = square(triangularSolve(lq, difference)).sum(axes: [-2, -1])
        return 0.5 * (traceTerm + mahalanobis - Float(d)) + q.halfLogDeterminant - p.halfLogDeterminant
    }

    /// Against a diagonal normal vector `q = N(m, diag(s^2))` (a full-covariance guide and a
    /// mean-field prior): `(sum_ij L_ij^2 / s_i^2 + |(m - mu) / s|^2 - D) / 2 + sum log s_i - sum log L_ii`.
    static func multivariateNormalDiagonal(_ p: MultivariateNormal, _ q: Independent<Normal>) -> Tensor {
        guard q.reinterpretedBatchRank == 1 else {
            return Tensor.failure("klDivergence", "a multivariate normal against a normal with \(q.reinterpretedBatchRank) event axes; it needs exactly one", shape: p.batchShape)
        }
        let variance = square(q.base.scale)
        let traceTerm = (square(p.scaleTril) / variance.unsqueezed(axis: -1)).sum(axes: [-2, -1])
        let mahalanobis = (square(q.base.loc - p.loc) / variance).sum(axis: -1)
        let logScale = log(q.base.scale).expanded(to: Shape.broadcast(q.base.scale.shape, p.loc.shape) ?? p.loc.shape).sum(axis: -1)
        return 0.5 * (traceTerm + mahalanobis - Float(p.dimension)) + logScale - p.halfLogDeterminant
    }

    /// `sum_k p_k (log p_k - log q_k)`, with `0 log 0 = 0`.
    static func categorical(_ p: Categorical, _ q: Categorical) -> Tensor {
        let probs = p.probs, present = probs .> Tensor(0)
        // A category p leaves out adds nothing; its -inf never enters a product (0 times inf
        // made the gradient NaN).
        return (probs * select(present, p.logits - q.logits, Tensor(0))).sum(axis: -1)
    }

    /// `p (log p - log q) + (1 - p)(log(1 - p) - log(1 - q))`, through log-sigmoids of the logits.
    static func bernoulli(_ p: Bernoulli, _ q: Bernoulli) -> Tensor {
        let probs = sigmoid(p.logits)
        return probs * (logSigmoid(p.logits) - logSigmoid(q.logits)) + (1 - probs) * (logSigmoid(-p.logits) - logSigmoid(-q.logits))
    }

    /// `log B(a_q, b_q) - log B(a_p, b_p) + (a_p - a_q) psi(a_p) + (b_p - b_q) psi(b_p) + (a_q - a_p + b_q - b_p) psi(a_p + b_p)`.
    static func beta(_ p: Beta, _ q: Beta) -> Tensor {
        let batch = Shape.broadcast(p.batchShape, q.batchShape) ?? p.batchShape
        return dirichletKL(p.expanded(to: batch).pair, q.expanded(to: batch).pair)
    }

    /// `(a_p - a_q) psi(a_p) - log Gamma(a_p) + log Gamma(a_q) + a_q (log r_p - log r_q) + a_p (r_q - r_p) / r_p`.
    static func gamma(_ p: Gamma, _ q: Gamma) -> Tensor {
        // With Stirling's remainder R and psi(a) = log a - 1/(2a) + R'(a), the large terms cancel
        // in closed form: (a_p - a_q)(R'(a_p) - 1/(2 a_p)) + (a_q - 1/2) log(1 + d / a_p) - d
        // + R(a_q) - R(a_p) + a_p t - a_q log(1 + t), with d = a_q - a_p and t = (r_q - r_p) / r_p;
        // log(1 + d / a_p) and log(1 + t) as ratios, which keep their digits when q's parameter
        // is far below p's (log1p of -1 + 1e-8 was -inf).
        let (a1, r1, a2, r2) = (p.concentration, p.rate, q.concentration, q.rate)
        let d = a2 - a1, t = (r2 - r1) / r1
        return (a1 - a2) * (logGammaRemainderDerivative(a1) - 0.5 / a1) + (a2 - 0.5) * logRatio(a2, a1) - d
            + logGammaRemainder(a2) - logGammaRemainder(a1) + a1 * t - a2 * logRatio(r2, r1)
    }

    /// `log B(b) - log B(a) + sum (a - b)(psi(a) - psi(a_0))`.
    static func dirichlet(_ p: Dirichlet, _ q: Dirichlet) -> Tensor {
        dirichletKL(p.concentration, q.concentration)
    }

    /// `log(r_p / r_q) + r_q / r_p - 1`.
    static func exponential(_ p: Exponential, _ q: Exponential) -> Tensor {
        let ratio = q.rate / p.rate
        return ratio - 1 - log(ratio)
    }

    /// `log(b_q / b_p) + |m_p - m_q| / b_q + (b_p / b_q) exp(-|m_p - m_q| / b_p) - 1`.
    static func laplace(_ p: Laplace, _ q: Laplace) -> Tensor {
        let distance = abs(p.loc - q.loc)
        let ratio = p.scale / q.scale
        return -log(ratio) + distance / q.scale + ratio * exp(-distance / p.scale) - 1
    }
}

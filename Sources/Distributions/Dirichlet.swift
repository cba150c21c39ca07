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
        validate(concentration, "concentration", of: "Dirichlet", must: .positive)
    }

    public var eventShape: [Int] { [concentration.shape.last ?? 0] }
    public var support: Constraint { .simplex }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        let a = concentration
        return xLogY(a - 1, value).sum(axis: -1) + lgamma(a.sum(axis: -1)) - lgamma(a).sum(axis: -1)
    }

    /// Independent Gamma(a_k, 1) draws (implicit gradients), normalized to sum to 1.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let draws = standardGamma(concentration, sampleShape, using: &generator)
        return draws / draws.sum(axis: -1, keepDims: true)
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
        let logBeta = lgamma(a).sum(axis: -1) - lgamma(total)
        return logBeta + (total - k) * digamma(total) - ((a - 1) * digamma(a)).sum(axis: -1)
    }
    public func expanded(to batchShape: [Int]) -> Dirichlet { Dirichlet(concentration.expanded(to: batchShape + eventShape)) }
}

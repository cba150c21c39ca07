import Foundation
import TensorCore

/// Student's t with `nu` degrees of freedom, location `mu` and scale `sigma`:
/// `log p(x) = log Gamma((nu+1)/2) - log Gamma(nu/2) - log(nu pi)/2 - log sigma
///  - (nu+1)/2 log(1 + ((x - mu)/sigma)^2 / nu)`.
public struct StudentT: Distribution {
    public let df: Tensor
    public let loc: Tensor
    public let scale: Tensor
    public let batchShape: [Int]

    /// StudentT(df, loc, scale); `df` and `scale` must be positive.
    public init(df: Tensor, loc: Tensor = 0, scale: Tensor = 1) {
        self.df = df
        self.loc = loc
        self.scale = scale
        batchShape = Distributions.batchShape("StudentT", [("df", df.shape), ("loc", loc.shape), ("scale", scale.shape)])
        validate(df, "df", of: "StudentT", must: .positiveFinite)
        validate(loc, "loc", of: "StudentT", must: .finite)
        validate(scale, "scale", of: "StudentT", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .real }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        let z = (value - loc) / scale
        // log Gamma(a + 1/2) - log Gamma(a) - log(2 a pi) / 2 with a = df / 2, by Stirling's
        // remainder: it tends to -log(2 pi) / 2 (the normal's) without the cancellation that
        // cost 0.06 nats at df = 1e6.
        let a = df / 2
        let normalizer = a * log1p(0.5 / a) - 0.5 - 0.5 * logTwoPi + logGammaRemainder(a + 0.5) - logGammaRemainder(a) - log(scale)
        // Past |z| = 1e15, z^2 is taken apart: log(z^2 / df) + log1p(df / z^2) (z^2 overflows
        // a float past 1.8e19, and the log-density was -inf).
        let far = abs(z) .> Tensor(1e15)
        let zFar = select(far, z, Tensor(1)), zNear = select(far, Tensor(0), z)
        let tail = select(far, 2 * log(abs(zFar)) - log(df) + log1p(df / (zFar * zFar)), log1p(zNear * zNear / df))
        return normalizer - (df + 1) / 2 * tail
    }

    /// `mu + sigma eps sqrt(nu / (2 g))` with `eps ~ N(0, 1)` and `g ~ Gamma(nu/2, 1)`, through
    /// `log g`, which does not underflow to an infinite draw at small nu.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let epsilon = Tensor.randomNormal(drawShape(sampleShape), using: &generator)
        let logG = logStandardGamma((df / 2).expanded(to: batchShape), sampleShape, using: &generator)
        return loc + scale * epsilon * exp(0.5 * (log(df / 2) - logG))
    }

    /// `mu` for `nu > 1`, NaN otherwise.
    public var mean: Tensor { select(df .> Tensor(1), loc.expanded(to: batchShape), Tensor(.nan)) }
    /// `sigma^2 nu / (nu - 2)` for `nu > 2`, infinite for `1 < nu <= 2`, NaN otherwise.
    public var variance: Tensor {
        let finite = scale * scale * df / (df - 2)
        return select(df .> Tensor(2), finite.expanded(to: batchShape), select(df .> Tensor(1), Tensor(.infinity), Tensor(.nan)).expanded(to: batchShape))
    }
    /// `(nu+1)/2 (psi((nu+1)/2) - psi(nu/2)) + log(nu)/2 + log B(nu/2, 1/2) + log sigma`.
    public func entropy() -> Tensor {
        // (v + 1)/2 (psi((v + 1)/2) - psi(v/2)) + log(sqrt(v) B(v/2, 1/2)) + log scale, with
        // Stirling's remainder R as in Beta.entropy: the terms near v log v cancel by hand, which
        // float32 did to 0.03 nats at v = 1e6.
        let half = df / 2, halfPlus = (df + 1) / 2
        let remainders = halfPlus * (logGammaRemainderDerivative(halfPlus) - logGammaRemainderDerivative(half)) + logGammaRemainder(half) - logGammaRemainder(halfPlus)
        return (0.5 * log1p(1 / df) + 1 / (2 * df) + remainders + 0.5 * logTwoPi + 0.5 + log(scale)).expanded(to: batchShape)
    }
    public func expanded(to batchShape: [Int]) -> StudentT {
        StudentT(df: df.expanded(to: batchShape), loc: loc.expanded(to: batchShape), scale: scale.expanded(to: batchShape))
    }
}

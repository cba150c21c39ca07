import TensorCore

/// The gamma distribution with shape `a` (concentration) and rate `b`:
/// `log p(x) = a log b + (a - 1) log x - b x - log Gamma(a)`.
public struct Gamma: Distribution {
    public let concentration: Tensor
    public let rate: Tensor
    public let batchShape: [Int]

    /// Gamma(concentration, rate); both must be positive.
    public init(concentration: Tensor, rate: Tensor) {
        self.concentration = concentration
        self.rate = rate
        batchShape = Distributions.batchShape("Gamma", [("concentration", concentration.shape), ("rate", rate.shape)])
        validate(concentration, "concentration", of: "Gamma", must: .positiveFinite)
        validate(rate, "rate", of: "Gamma", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .positive }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        // a log r + (a - 1) log x - r x - log Gamma(a) with log Gamma by Stirling's remainder R:
        // (a - 1) log(r x / a) + (a - r x) + log r - log(2 pi a) / 2 - R(a), whose terms do not
        // cancel at large concentrations (Gamma(1e5, 1e5) at 1.001: terms near 1e6, 0.04 nats lost).
        // Where r x / a is below the smallest normal float its digits (and the derivative of
        // its log) are gone, so the log is taken by parts there.
        let a = concentration, rx = rate * value, ratio = rx / a
        let tiny = ratio .< Tensor(Float.leastNormalMagnitude)
        let byParts = log(select(tiny, rate, Tensor(1))) + log(select(tiny, value, Tensor(1))) - log(select(tiny, a, Tensor(1)))
        let power = select(tiny, (a - 1) * byParts, xLogY(a - 1, select(tiny, Tensor(1), ratio)))
        return power + (a - rx) + log(rate) - 0.5 * log(a) - 0.5 * logTwoPi - logGammaRemainder(a)
    }

    /// A Gamma(a, 1) draw with implicit reparameterization gradients, divided by the rate;
    /// a draw below the smallest normal float (a third of them at a = 0.01) is raised to it, as
    /// PyTorch does, since 0 lies outside the support.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        clamp(standardGamma(concentration.expanded(to: batchShape), sampleShape, using: &generator) / rate, min: Float.leastNormalMagnitude)
    }

    public var mean: Tensor { (concentration / rate).expanded(to: batchShape) }
    public var variance: Tensor { (concentration / rate / rate).expanded(to: batchShape) }
    /// `a - log b + log Gamma(a) + (1 - a) psi(a)`.
    public func entropy() -> Tensor {
        // With Stirling's remainder R and psi(a) = log a - 1/(2a) + R'(a):
        // log(2 pi a) / 2 + (a - 1) / (2a) - (a - 1) R'(a) + R(a) - log b, whose terms do not
        // cancel at large concentrations (float32 log Gamma and psi terms near 1e6 at a = 1e5).
        let a = concentration
        return (0.5 * log(a) + 0.5 * logTwoPi + (a - 1) / (2 * a) - (a - 1) * logGammaRemainderDerivative(a) + logGammaRemainder(a) - log(rate))
            .expanded(to: batchShape)
    }
    public func expanded(to batchShape: [Int]) -> Gamma {
        Gamma(concentration: concentration.expanded(to: batchShape), rate: rate.expanded(to: batchShape))
    }
}

import Foundation
import TensorCore

/// The Poisson distribution with rate `r`: `log p(k) = k log r - r - log k!`.
public struct Poisson: Distribution {
    public let rate: Tensor
    public var batchShape: [Int] { rate.shape }

    /// Poisson(rate); the rate must be positive.
    public init(rate: Tensor) {
        self.rate = rate
        validate(rate, "rate", of: "Poisson", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .nonnegativeInteger }
    public var hasReparameterizedSample: Bool { false }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        // x log r - r - log Gamma(n) with n = x + 1, Stirling's large terms cancelled by hand
        // (at counts near a million each term is 1e7 and float32 kept the sum to about 1 nat):
        // x log(r/n) + (n - r) - log(n)/2 - log(2 pi)/2 - R(n), log(r/n) keeping its digits both
        // near r = n and far from it (logRatio).
        let n = value + 1
        return value * logRatio(rate, n) + (n - rate) - 0.5 * log(n) - 0.5 * logTwoPi - logGammaRemainder(n)
    }

    /// Inversion by sequential search for rates below 10, Hormann's transformed rejection
    /// (PTRS, 1993) above; each element draws from its own counter space.
    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let rates = rate.detached.expanded(to: drawShape(sampleShape))
        return Tensor.drawing(rates.shape, &generator) { block, element, i in
            let lambda = Double(rates.withElements { $0[i] })
            return Float(Poisson.draw(lambda) { attempt in block(UInt64(element) << 20 | UInt64(attempt)) })
        }
    }

    static func draw(_ lambda: Double, _ block: (Int) -> (UInt32, UInt32, UInt32, UInt32)) -> Double {
        func uniform(_ bits: UInt32) -> Double { (Double(bits) + 0.5) * 0x1p-32 }
        if lambda < 10 {
            let u = uniform(block(0).0)
            var k = 0.0, probability = exp(-lambda), cumulative = probability
            while u > cumulative && probability > 0 {
                k += 1
                probability *= lambda / k
                cumulative += probability
            }
            return k
        }
        let logLambda = log(lambda)
        let b = 0.931 + 2.53 * lambda.squareRoot()
        let a = -0.059 + 0.02483 * b
        let inverseAlpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        var attempt = 0
        while true {
            let words = block(attempt)
            attempt += 1
            let u = uniform(words.0) - 0.5, v = uniform(words.1)
            let us = 0.5 - Swift.abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(inverseAlpha) - log(a / (us * us) + b) <= -lambda + k * logLambda - lgamma(k + 1) { return k }
        }
    }

    public var mean: Tensor { rate }
    public var variance: Tensor { rate }
    /// `-sum_k p(k) log p(k)`, summed over `k` up to `r + 20 sqrt(r) + 20` (the rest < 1e-30).
    public func entropy() -> Tensor {
        // Summed over the support up to rate 50; above it (where the sum would take memory in
        // proportion to the rate) the asymptotic series, within 2e-8 of the sum at 50:
        // log(2 pi e lambda) / 2 - 1/(12 lambda) - 1/(24 lambda^2) - 19/(360 lambda^3).
        let largest = Swift.min(rate.uncountedScalars.map { Double($0) }.max() ?? 0, Self.largestSummedRate)
        let terms = Int(largest + 20 * largest.squareRoot() + 20)
        let k = Tensor.arange(terms + 1).reshaped(to: [terms + 1] + batchShape.map { _ in 1 })
        let summedRate = clamp(rate, max: Float(Self.largestSummedRate))
        let logMass = Poisson(rate: summedRate).logProb(k)
        let summed = -(exp(logMass) * logMass).sum(axis: 0)
        // Evaluated at rates of 50 or more only, so that the branch not taken has no overflow
        // (0 * inf would be NaN in the gradient), and log(2 pi e) apart (rates to 3.4e38).
        let large = clamp(rate, min: Float(Self.largestSummedRate))
        let inverse = 1 / large
        let asymptotic = 0.5 * (Float(Foundation.log(2 * Double.pi * M_E)) + log(large)) - inverse * (1.0 / 12 + inverse * (1.0 / 24 + inverse * (19.0 / 360)))
        return select(rate .> Tensor(Float(Self.largestSummedRate)), asymptotic, summed)
    }

    /// The largest rate whose entropy is summed over the support.
    static let largestSummedRate = 50.0
    public func expanded(to batchShape: [Int]) -> Poisson { Poisson(rate: rate.expanded(to: batchShape)) }
}

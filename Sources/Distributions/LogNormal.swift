import Foundation
import TensorCore

/// `exp` of a normal variable: `log p(x) = log N(log x; mu, sigma^2) - log x`.
public struct LogNormal: Distribution {
    public let loc: Tensor
    public let scale: Tensor
    /// The same distribution as a normal pushed through `exp`.
    public let transformed: TransformedDistribution<Normal>

    /// The law of `exp(y)` for `y ~ N(loc, scale^2)`.
    public init(_ loc: Tensor, _ scale: Tensor) {
        self.loc = loc
        self.scale = scale
        transformed = TransformedDistribution(Normal(loc, scale), ExpBijector())
    }

    public var batchShape: [Int] { transformed.batchShape }
    public var eventShape: [Int] { [] }
    public var support: Constraint { .positive }

    public func logProb(_ value: Tensor) -> Tensor {
        validateValue(value)
        return transformed.logProb(value)
    }

    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        transformed.rsample(sampleShape, using: &generator)
    }

    /// `exp(mu + sigma^2 / 2)`.
    public var mean: Tensor { exp(loc + 0.5 * scale * scale).expanded(to: batchShape) }
    /// `(exp(sigma^2) - 1) exp(2 mu + sigma^2)`.
    /// As `exp(2 mu + sigma^2 + log(e^(sigma^2) - 1))`, the last term `sigma^2 + log1p(-e^-(sigma^2))`
    /// above sigma^2 = 20, so that a factor that alone overflows (e^90) does not make it inf.
    public var variance: Tensor {
        let square = scale * scale
        let large = square .> Tensor(20)
        let logExpm1 = select(large, square + log1p(-exp(-square)), log(expm1(select(large, Tensor(1), square))))
        return exp(2 * loc + square + logExpm1).expanded(to: batchShape)
    }
    /// `mu + log(2 pi e sigma^2) / 2`.
    public func entropy() -> Tensor { (loc + 0.5 + 0.5 * logTwoPi + log(scale)).expanded(to: batchShape) }
    public func expanded(to batchShape: [Int]) -> LogNormal { LogNormal(loc.expanded(to: batchShape), scale.expanded(to: batchShape)) }
}

import Foundation
import TensorCore

/// `|y|` for `y ~ N(0, scale^2)`: `log p(x) = log 2 + log N(x; 0, sigma^2)` for `x >= 0`.
public struct HalfNormal: Distribution {
    public let scale: Tensor
    public let batchShape: [Int]

    /// The half-normal of positive `scale`.
    public init(_ scale: Tensor) {
        self.scale = scale
        batchShape = scale.shape
        validate(scale, "scale", of: "HalfNormal", must: .positiveFinite)
    }

    public var eventShape: [Int] { [] }
    public var support: Constraint { .positive }

    public func logProb(_ value: Tensor) -> Tensor {
        if DistributionValidation.isEnabled, let bad = ScalarRange.nonnegative.firstViolation(in: value) {
            recordDeferredError(DistributionError.valueOutsideSupport(distribution: "HalfNormal", index: multiIndex(bad, in: value.shape), value: value.uncountedScalars[bad], support: "nonnegative reals"))
        }
        let z = value / scale
        return Float(Foundation.log(2.0)) - 0.5 * z * z - log(scale) - 0.5 * logTwoPi
    }

    /// `scale * |eps|`.
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        scale * abs(Tensor.randomNormal(drawShape(sampleShape), using: &generator))
    }

    /// `sigma sqrt(2 / pi)`.
    public var mean: Tensor { (scale * Float((2 / Double.pi).squareRoot())).expanded(to: batchShape) }
    /// `sigma^2 (1 - 2 / pi)`.
    public var variance: Tensor { (scale * scale * Float(1 - 2 / Double.pi)).expanded(to: batchShape) }
    /// `log(pi e sigma^2 / 2) / 2`.
    public func entropy() -> Tensor { (log(scale) + Float(0.5 * Foundation.log(Double.pi / 2) + 0.5)).expanded(to: batchShape) }
    public func expanded(to batchShape: [Int]) -> HalfNormal { HalfNormal(scale.expanded(to: batchShape)) }
}

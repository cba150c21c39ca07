import Foundation
import TensorCore

/// The outcome of checking an operation against its Double reference: the largest error of
/// the forward values and of the gradients, each relative to `1 + |reference|`.
public struct GradientCheck: CustomStringConvertible {
    public let valueError: Double
    public let gradientError: Double
    public let worst: String

    public var description: String { "value error \(valueError), gradient error \(gradientError) (\(worst))" }

    /// Compares `operation` on `inputs` with `reference` on the same inputs in Double: the
    /// values, and the gradient of `sum(weights * output)` against central finite differences
    /// of the reference (step `step * max(1, |x|)`), for fixed pseudo-random weights.
    public static func run(
        _ inputs: [Tensor],
        step: Double = 1e-6,
        operation: ([Tensor]) -> Tensor,
        reference: ([DoubleTensor]) -> DoubleTensor
    ) throws -> GradientCheck {
        var generator = RandomGenerator(seed: 99)
        let referenceInputs = inputs.map(DoubleTensor.init)
        let expected = reference(referenceInputs)
        let weights = Tensor.randomUniform(expected.shape, using: &generator) * 2 - 1
        let weightValues = weights.scalars.map(Double.init)
        let (output, gradients) = try valueWithGradient(at: inputs) { (weights * operation($0)).sum() }
        _ = output
        let actual = try checkingTensorErrors { operation(inputs) }
        precondition(actual.shape == expected.shape, "operation shape \(actual.shape) differs from reference \(expected.shape)")

        var valueError = 0.0
        var worst = ""
        for (a, e) in zip(actual.scalars, expected.values) {
            let error = relativeError(Double(a), e)
            if error > valueError { valueError = error; worst = "value \(a) vs \(e)" }
        }

        func objective(_ xs: [DoubleTensor]) -> Double {
            zip(reference(xs).values, weightValues).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var gradientError = 0.0
        for (which, input) in referenceInputs.enumerated() {
            let ours = gradients[which].scalars
            for i in 0..<input.count {
                let h = step * max(1, Swift.abs(input.values[i]))
                var plus = referenceInputs, minus = referenceInputs
                plus[which].values[i] += h
                minus[which].values[i] -= h
                let numeric = (objective(plus) - objective(minus)) / (2 * h)
                let error = relativeError(Double(ours[i]), numeric)
                if error > gradientError {
                    gradientError = error
                    worst = "input \(which) element \(i): gradient \(ours[i]) vs finite difference \(numeric)"
                }
            }
        }
        return GradientCheck(valueError: valueError, gradientError: gradientError, worst: worst)
    }

    /// `|a - b| / (1 + |b|)`, with matching infinities and NaNs counted as exact.
    public static func relativeError(_ a: Double, _ b: Double) -> Double {
        if a == b || (a.isNaN && b.isNaN) { return 0 }
        return Swift.abs(a - b) / (1 + Swift.abs(b))
    }
}

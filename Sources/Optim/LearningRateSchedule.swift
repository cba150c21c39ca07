import Foundation
import TensorCore

/// The learning rate as a function of the step (1-based): constant, step decay, exponential
/// decay, cosine annealing or stages, each multiplying the optimizer's base rate.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// Multiplied by `factor` every `every` steps.
    case step(every: Int, factor: Float)
    /// Multiplied by `factor` each step.
    case exponential(factor: Float)
    /// Cosine from 1 down to `minimum` over `steps` steps, then `minimum`.
    case cosine(steps: Int, minimum: Float = 0)
    /// Each stage's multiplier for its number of steps, one stage after another; the last
    /// stage's multiplier after them all (Burda et al. 2015: 3^i epochs at 10^(-i/7)).
    case stages([Stage])

    /// A stage of `stages`: `multiplier` for `steps` steps.
    public struct Stage: Sendable, Equatable {
        public let steps: Int
        public let multiplier: Float

        public init(steps: Int, multiplier: Float) {
            self.steps = steps
            self.multiplier = multiplier
        }
    }

    /// The multiplier at `step`.
    public func multiplier(at step: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case let .step(every, factor):
            return Float(Foundation.pow(Double(factor), Double((step - 1) / Swift.max(every, 1))))
        case let .exponential(factor):
            return Float(Foundation.pow(Double(factor), Double(step - 1)))
        case let .cosine(steps, minimum):
            let progress = Swift.min(Double(step - 1) / Double(Swift.max(steps, 1)), 1)
            return minimum + (1 - minimum) * Float(0.5 * (1 + Foundation.cos(Double.pi * progress)))
        case let .stages(stages):
            var end = 0
            for stage in stages {
                end = end.addingReportingOverflow(stage.steps).overflow ? .max : end + stage.steps
                if step <= end { return stage.multiplier }
            }
            return stages.last?.multiplier ?? 1
        }
    }
}

/// Scales `gradients` so that their joint L2 norm is at most `maximum`; returns the norm before.
@discardableResult
public func clipGradientNorm(_ gradients: inout [String: Tensor], maximum: Float) -> Float {
    var total = 0.0
    for gradient in gradients.values {
        gradient.withElements { p in
            for i in 0..<gradient.count { total += Double(p[i]) * Double(p[i]) }
        }
    }
    let norm = Float(total.squareRoot())
    guard norm > maximum, norm.isFinite else { return norm }
    let factor = maximum / norm
    for name in gradients.keys { gradients[name] = gradients[name]! * factor }
    return norm
}

import TensorCore

/// A first-order optimizer: updates named parameters in place from their gradients.
///
/// Its state (moments, accumulators, the step count) is a set of named tensors, so a
/// checkpoint can save it and training resumes exactly where it stopped.
public protocol Optimizer {
    /// Steps taken so far.
    var step: Int { get }
    /// The base learning rate (the optimizer's own, as chosen).
    var learningRate: Float { get }
    /// Applies one update to `parameters`, with the learning rate times `rateMultiplier` (a
    /// schedule's factor).
    mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor], rateMultiplier: Float)
    /// The state as named tensors (for checkpoints).
    var state: [String: Tensor] { get }
    /// Restores the state saved by `state`, checking it against the parameters it will update
    /// (their names and shapes); a state that does not fit is an error, not a crash.
    mutating func restore(_ state: [String: Tensor], parameterShapes: [String: [Int]]) throws
}

extension Optimizer {
    /// One update at the base learning rate.
    public mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor]) {
        update(&parameters, gradients: gradients, rateMultiplier: 1)
    }
}

/// Optimizer state that does not fit the parameters it should update.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The optimizers by name, with their settings, as the command line and `fit` take them.
public enum OptimizerChoice: Sendable, Equatable, CustomStringConvertible {
    /// Stochastic gradient descent with momentum (and Nesterov's correction).
    case sgd(learningRate: Float, momentum: Float = 0, nesterov: Bool = false)
    /// Adagrad, the optimizer of Kingma & Welling's experiments.
    case adagrad(learningRate: Float)
    /// RMSProp with decay `alpha`.
    case rmsprop(learningRate: Float, alpha: Float = 0.99)
    /// Adam.
    case adam(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999)
    /// Pyro's ClippedAdam: each gradient element clipped to `clip`, the rate decayed by `decay` per step.
    case clippedAdam(learningRate: Float, clip: Float = 10, decay: Float = 1)

    /// `.adam(learningRate: lr)`.
    public static func adam(lr: Float) -> OptimizerChoice { .adam(learningRate: lr) }

    /// The base learning rate.
    public var learningRate: Float {
        switch self {
        case let .sgd(rate, _, _), let .adagrad(rate), let .rmsprop(rate, _), let .adam(rate, _, _), let .clippedAdam(rate, _, _): return rate
        }
    }

    /// A fresh optimizer of this kind at its learning rate; `weightDecay` adds
    /// `weightDecay * p` to each gradient.
    public func make(weightDecay: Float = 0) -> any Optimizer {
        switch self {
        case let .sgd(rate, momentum, nesterov):
            return ElementwiseOptimizer(SGDRule(momentum: momentum, nesterov: nesterov, weightDecay: weightDecay), learningRate: rate)
        case let .adagrad(rate):
            return ElementwiseOptimizer(AdagradRule(weightDecay: weightDecay, epsilon: 1e-10), learningRate: rate)
        case let .rmsprop(rate, alpha):
            return ElementwiseOptimizer(RMSPropRule(alpha: alpha, weightDecay: weightDecay, epsilon: 1e-8), learningRate: rate)
        case let .adam(rate, beta1, beta2):
            return ElementwiseOptimizer(AdamRule(beta1: beta1, beta2: beta2, weightDecay: weightDecay, epsilon: 1e-8, clip: .infinity, decay: 1), learningRate: rate)
        case let .clippedAdam(rate, clip, decay):
            return ElementwiseOptimizer(AdamRule(beta1: 0.9, beta2: 0.999, weightDecay: weightDecay, epsilon: 1e-8, clip: clip, decay: decay), learningRate: rate)
        }
    }

    public var description: String {
        switch self {
        case let .sgd(rate, momentum, nesterov): return "sgd(lr \(rate), momentum \(momentum)\(nesterov ? ", nesterov" : ""))"
        case let .adagrad(rate): return "adagrad(lr \(rate))"
        case let .rmsprop(rate, alpha): return "rmsprop(lr \(rate), alpha \(alpha))"
        case let .adam(rate, beta1, beta2): return "adam(lr \(rate), betas \(beta1), \(beta2))"
        case let .clippedAdam(rate, clip, decay): return "clipped-adam(lr \(rate), clip \(clip), decay \(decay))"
        }
    }
}

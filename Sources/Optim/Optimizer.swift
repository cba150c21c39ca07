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
    /// Adagrad, the optimizer of Kingma & Welling's experiments, with `epsilon` added to the root.
    case adagrad(learningRate: Float, epsilon: Float = 1e-10)
    /// RMSProp with decay `alpha`: `epsilon` added to the root, or inside it (`sqrt(s + epsilon)`,
    /// as Goodfellow et al.'s algorithm 8.5 writes it); with `momentum`, a velocity of the scaled
    /// steps (with Nesterov's correction, algorithm 8.6 in the form that needs no second gradient).
    case rmsprop(learningRate: Float, alpha: Float = 0.99, epsilon: Float = 1e-8, epsilonInsideRoot: Bool = false, momentum: Float = 0, nesterov: Bool = false)
    /// Adam, with `epsilon` added to the root of the second moment.
    case adam(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)
    /// Pyro's ClippedAdam: each gradient element clipped to `clip`, the rate decayed by `decay` per step.
    case clippedAdam(learningRate: Float, clip: Float = 10, decay: Float = 1)

    /// `.adam(learningRate: lr)`.
    public static func adam(lr: Float) -> OptimizerChoice { .adam(learningRate: lr) }

    /// The base learning rate.
    public var learningRate: Float {
        switch self {
        case let .sgd(rate, _, _), let .adagrad(rate, _), let .rmsprop(rate, _, _, _, _, _), let .adam(rate, _, _, _), let .clippedAdam(rate, _, _): return rate
        }
    }

    /// The first setting out of range, described, or nil: rates and epsilons positive, decays
    /// and momenta in [0, 1).
    public var firstProblem: String? {
        func fraction(_ name: String, _ value: Float) -> String? { value >= 0 && value < 1 ? nil : "the optimizer's \(name) must lie in [0, 1), got \(value)" }
        func positive(_ name: String, _ value: Float) -> String? { value > 0 && value.isFinite ? nil : "the optimizer's \(name) must be a positive number, got \(value)" }
        if let problem = positive("learning rate", learningRate) { return problem }
        switch self {
        case let .sgd(_, momentum, _): return fraction("momentum", momentum)
        case let .adagrad(_, epsilon): return positive("epsilon", epsilon)
        case let .rmsprop(_, alpha, epsilon, _, momentum, _): return fraction("alpha", alpha) ?? positive("epsilon", epsilon) ?? fraction("momentum", momentum)
        case let .adam(_, beta1, beta2, epsilon): return fraction("beta1", beta1) ?? fraction("beta2", beta2) ?? positive("epsilon", epsilon)
        case let .clippedAdam(_, clip, decay): return positive("clip", clip) ?? positive("decay", decay)
        }
    }

    /// A fresh optimizer of this kind at its learning rate; `weightDecay` adds
    /// `weightDecay * p` to each gradient.
    public func make(weightDecay: Float = 0) -> any Optimizer {
        switch self {
        case let .sgd(rate, momentum, nesterov):
            return ElementwiseOptimizer(SGDRule(momentum: momentum, nesterov: nesterov, weightDecay: weightDecay), learningRate: rate)
        case let .adagrad(rate, epsilon):
            return ElementwiseOptimizer(AdagradRule(weightDecay: weightDecay, epsilon: epsilon), learningRate: rate)
        case let .rmsprop(rate, alpha, epsilon, inside, momentum, nesterov):
            let rule = RMSPropRule(alpha: alpha, weightDecay: weightDecay, epsilon: epsilon, epsilonInsideRoot: inside, momentum: momentum, nesterov: nesterov)
            return ElementwiseOptimizer(rule, learningRate: rate)
        case let .adam(rate, beta1, beta2, epsilon):
            return ElementwiseOptimizer(AdamRule(beta1: beta1, beta2: beta2, weightDecay: weightDecay, epsilon: epsilon, clip: .infinity, decay: 1), learningRate: rate)
        case let .clippedAdam(rate, clip, decay):
            return ElementwiseOptimizer(AdamRule(beta1: 0.9, beta2: 0.999, weightDecay: weightDecay, epsilon: 1e-8, clip: clip, decay: decay), learningRate: rate)
        }
    }

    public var description: String {
        switch self {
        case let .sgd(rate, momentum, nesterov): return "sgd(lr \(rate), momentum \(momentum)\(nesterov ? ", nesterov" : ""))"
        case let .adagrad(rate, epsilon): return "adagrad(lr \(rate), epsilon \(epsilon))"
        case let .rmsprop(rate, alpha, epsilon, inside, momentum, nesterov):
            return "rmsprop(lr \(rate), alpha \(alpha), epsilon \(epsilon)\(inside ? " inside the root" : "")\(momentum > 0 ? ", momentum \(momentum)" : "")\(nesterov ? ", nesterov" : ""))"
        case let .adam(rate, beta1, beta2, epsilon): return "adam(lr \(rate), betas \(beta1), \(beta2), epsilon \(epsilon))"
        case let .clippedAdam(rate, clip, decay): return "clipped-adam(lr \(rate), clip \(clip), decay \(decay))"
        }
    }
}

import TensorCore

/// A first-order optimizer: updates named parameters in place from their gradients.
///
/// Its state (moments, accumulators, the step count) is a set of named tensors, so a
/// checkpoint can save it and training resumes exactly where it stopped.
public protocol Optimizer {
    /// Steps taken so far.
    var step: Int { get }
    /// Applies one update to `parameters` with learning rate `learningRate`.
    mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate: Float)
    /// The state as named tensors (for checkpoints).
    var state: [String: Tensor] { get }
    /// Restores the state saved by `state`.
    mutating func restore(_ state: [String: Tensor])
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

    /// A fresh optimizer of this kind.
    public func make(weightDecay: Float = 0) -> any Optimizer {
        switch self {
        case let .sgd(_, momentum, nesterov): return SGD(momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        case .adagrad: return Adagrad(weightDecay: weightDecay)
        case let .rmsprop(_, alpha): return RMSProp(alpha: alpha, weightDecay: weightDecay)
        case let .adam(_, beta1, beta2): return Adam(beta1: beta1, beta2: beta2, weightDecay: weightDecay)
        case let .clippedAdam(_, clip, decay): return Adam(weightDecay: weightDecay, clip: clip, decay: decay)
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

/// Per-parameter state slots shared by the optimizers: `slots[name][i]` is state tensor `i`.
struct Slots {
    var values: [String: [Tensor]] = [:]

    /// The slots of `name`, created as `count` zero tensors of `shape` on first use.
    mutating func ensure(_ name: String, count: Int, shape: [Int]) {
        if values[name] == nil { values[name] = (0..<count).map { _ in Tensor.zeros(shape) } }
    }

    /// As named tensors `name#i`.
    func flattened() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, tensors) in values { for (i, t) in tensors.enumerated() { result["\(name)#\(i)"] = t } }
        return result
    }

    /// From named tensors `name#i`.
    static func unflattened(_ state: [String: Tensor]) -> Slots {
        var grouped: [String: [(Int, Tensor)]] = [:]
        for (key, tensor) in state where key.contains("#") {
            let parts = key.split(separator: "#", omittingEmptySubsequences: false)
            guard let index = Int(parts.last!) else { continue }
            grouped[parts.dropLast().joined(separator: "#"), default: []].append((index, tensor))
        }
        return Slots(values: grouped.mapValues { $0.sorted { $0.0 < $1.0 }.map(\.1) })
    }
}

/// Runs `body` over the elements of a parameter, its gradient and its state slots in place.
func fusedUpdate(
    _ parameter: inout Tensor, _ gradient: Tensor, _ slots: inout [Tensor],
    _ body: (Int, UnsafeMutablePointer<Float>, UnsafePointer<Float>, [UnsafeMutablePointer<Float>]) -> Void
) {
    var pointers: [UnsafeMutablePointer<Float>] = []
    for i in slots.indices { pointers.append(slots[i].withMutableElements { $0 }) }
    let count = parameter.count
    parameter.withMutableElements { p in
        gradient.withElements { g in body(count, p, g, pointers) }
    }
}

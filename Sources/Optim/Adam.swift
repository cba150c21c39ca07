import Foundation
import TensorCore

/// Adam (Kingma & Ba 2015): `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
/// `p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`. With `clip`, each gradient element
/// is first limited to `[-clip, clip]` and the rate multiplied by `decay^t` (Pyro's ClippedAdam).
public struct Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let weightDecay: Float
    public let epsilon: Float
    public let clip: Float
    public let decay: Float
    public private(set) var step = 0
    var slots = Slots()

    public init(beta1: Float = 0.9, beta2: Float = 0.999, weightDecay: Float = 0, epsilon: Float = 1e-8, clip: Float = .infinity, decay: Float = 1) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
        self.epsilon = epsilon
        self.clip = clip
        self.decay = decay
    }

    public mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate: Float) {
        step += 1
        let t = Double(step)
        let correction1 = Float(1 - Foundation.pow(Double(beta1), t))
        let correction2 = Float(1 - Foundation.pow(Double(beta2), t))
        let lr = learningRate * Float(Foundation.pow(Double(decay), t - 1))
        for (name, gradient) in gradients {
            guard var parameter = parameters.removeValue(forKey: name) else { continue }
            slots.ensure(name, count: 2, shape: parameter.shape)
            let (b1, b2, decayWeight, eps, clip) = (beta1, beta2, weightDecay, epsilon, clip)
            fusedUpdate(&parameter, gradient, &slots.values[name]!) { n, p, g, s in
                let m = s[0], v = s[1]
                for i in 0..<n {
                    let gi = Swift.min(Swift.max(g[i] + decayWeight * p[i], -clip), clip)
                    m[i] = b1 * m[i] + (1 - b1) * gi
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                    p[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
                }
            }
            parameters[name] = parameter
        }
    }

    public var state: [String: Tensor] { slots.flattened().merging(["step": Tensor(Float(step))]) { a, _ in a } }

    public mutating func restore(_ state: [String: Tensor]) {
        slots = Slots.unflattened(state)
        step = Int(state["step"]?.scalars.first ?? 0)
    }
}

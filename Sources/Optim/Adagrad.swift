import TensorCore

/// Adagrad (Duchi et al. 2011), used by Kingma & Welling: `G += g^2`, `p -= lr g / (sqrt(G) + eps)`.
public struct Adagrad: Optimizer {
    public let weightDecay: Float
    public let epsilon: Float
    public private(set) var step = 0
    var slots = Slots()

    public init(weightDecay: Float = 0, epsilon: Float = 1e-10) {
        self.weightDecay = weightDecay
        self.epsilon = epsilon
    }

    public mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate lr: Float) {
        step += 1
        for (name, gradient) in gradients {
            guard var parameter = parameters.removeValue(forKey: name) else { continue }
            slots.ensure(name, count: 1, shape: parameter.shape)
            let (decay, eps) = (weightDecay, epsilon)
            fusedUpdate(&parameter, gradient, &slots.values[name]!) { n, p, g, s in
                let sum = s[0]
                for i in 0..<n {
                    let gi = g[i] + decay * p[i]
                    sum[i] += gi * gi
                    p[i] -= lr * gi / (sum[i].squareRoot() + eps)
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

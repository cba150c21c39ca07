import TensorCore

/// Stochastic gradient descent: `v = mu v + g`, then `p -= lr v` (or `p -= lr (g + mu v)` with
/// Nesterov's correction); `g` includes `weightDecay * p`.
public struct SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public private(set) var step = 0
    var slots = Slots()

    public init(momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate lr: Float) {
        step += 1
        for (name, gradient) in gradients {
            guard var parameter = parameters.removeValue(forKey: name) else { continue }
            slots.ensure(name, count: 1, shape: parameter.shape)
            let (mu, nesterov, decay) = (momentum, nesterov, weightDecay)
            fusedUpdate(&parameter, gradient, &slots.values[name]!) { n, p, g, s in
                let v = s[0]
                for i in 0..<n {
                    let gi = g[i] + decay * p[i]
                    v[i] = mu * v[i] + gi
                    p[i] -= lr * (nesterov ? gi + mu * v[i] : v[i])
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

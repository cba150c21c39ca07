import TensorCore

/// An update rule applied element by element, with `slotCount` state tensors per parameter.
protocol UpdateRule {
    var slotCount: Int { get }
    /// Updates `n` elements of a parameter `p` in place from its gradient `g` and state `slots`.
    func apply(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ slots: [UnsafeMutablePointer<Float>], learningRate: Float, step: Int)
}

/// The optimizer behind every `UpdateRule`: per-parameter state slots, a step count, and the
/// fused in-place loop over each parameter's elements.
struct ElementwiseOptimizer<Rule: UpdateRule>: Optimizer {
    let rule: Rule
    private(set) var step = 0
    var slots: [String: [Tensor]] = [:]

    init(_ rule: Rule) { self.rule = rule }

    mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor], learningRate: Float) {
        step += 1
        for (name, gradient) in gradients {
            guard var parameter = parameters.removeValue(forKey: name) else { continue }
            var state = slots.removeValue(forKey: name) ?? (0..<rule.slotCount).map { _ in Tensor.zeros(parameter.shape) }
            let pointers = state.indices.map { i in state[i].withMutableElements { $0 } }
            let count = parameter.count
            parameter.withMutableElements { p in
                gradient.withElements { g in rule.apply(count, p, g, pointers, learningRate: learningRate, step: step) }
            }
            slots[name] = state
            parameters[name] = parameter
        }
    }

    /// The slots as `name#i`, and the step count as `step`.
    var state: [String: Tensor] {
        var result = ["step": Tensor(Float(step))]
        for (name, tensors) in slots { for (i, t) in tensors.enumerated() { result["\(name)#\(i)"] = t } }
        return result
    }

    mutating func restore(_ state: [String: Tensor]) {
        var grouped: [String: [(Int, Tensor)]] = [:]
        for (key, tensor) in state where key.contains("#") {
            let parts = key.split(separator: "#", omittingEmptySubsequences: false)
            guard let index = Int(parts.last!) else { continue }
            grouped[parts.dropLast().joined(separator: "#"), default: []].append((index, tensor))
        }
        slots = grouped.mapValues { $0.sorted { $0.0 < $1.0 }.map(\.1) }
        step = Int(state["step"]?.scalars.first ?? 0)
    }
}

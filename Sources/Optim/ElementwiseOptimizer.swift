import TensorCore

/// An update rule applied element by element, with `slotCount` state tensors per parameter.
protocol UpdateRule {
    var slotCount: Int { get }
    /// The slots that accumulate squared gradients, which no valid state holds negative.
    var squaredSlots: Set<Int> { get }
    /// Updates `n` elements of a parameter `p` in place from its gradient `g` and state `slots`.
    func apply(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ slots: [UnsafeMutablePointer<Float>], learningRate: Float, step: Int)
}

/// The optimizer behind every `UpdateRule`: per-parameter state slots, a step count, and the
/// fused in-place loop over each parameter's elements.
struct ElementwiseOptimizer<Rule: UpdateRule>: Optimizer {
    let rule: Rule
    let learningRate: Float
    private(set) var step = 0
    var slots: [String: [Tensor]] = [:]

    init(_ rule: Rule, learningRate: Float) {
        self.rule = rule
        self.learningRate = learningRate
    }

    mutating func update(_ parameters: inout [String: Tensor], gradients: [String: Tensor], rateMultiplier: Float) {
        let learningRate = self.learningRate * rateMultiplier
        step += 1
        var arrays: [ElementArrays] = []
        for (name, gradient) in gradients {
            guard var parameter = parameters.removeValue(forKey: name) else { continue }
            var state = slots.removeValue(forKey: name).flatMap { $0.count == rule.slotCount && $0.allSatisfy { $0.shape == parameter.shape } ? $0 : nil }
                ?? (0..<rule.slotCount).map { _ in Tensor.zeros(parameter.shape) }
            // Pointers taken while each storage is held once; the dictionaries keep it alive and
            // nothing else touches it until the update is done.
            arrays.append(ElementArrays(p: parameter.withMutableElements { $0 }, g: gradient.withElements { $0 },
                                        slots: state.indices.map { i in state[i].withMutableElements { $0 } }, count: parameter.count))
            slots[name] = state
            parameters[name] = parameter
        }
        Self.apply(rule, arrays, learningRate: learningRate, step: step)
    }

    /// `rule` over the elements of every parameter at once, in eight contiguous shares of them
    /// per thread, each taken by whichever thread is free (so that small parameters are spread
    /// as well as large ones, and a share whose memory is slower to reach does not leave the
    /// other thread waiting): element by element, so the numbers do not depend on the split.
    private static func apply(_ rule: Rule, _ arrays: [ElementArrays], learningRate: Float, step: Int) {
        let total = arrays.reduce(0) { $0 + $1.count }
        parallelChunks(total, partsPerThread: 8) { start, count in
            var offset = 0
            for item in arrays {
                let (low, high) = (Swift.max(start, offset), Swift.min(start + count, offset + item.count))
                if low < high {
                    let skip = low - offset
                    rule.apply(high - low, item.p + skip, item.g + skip, item.slots.map { $0 + skip }, learningRate: learningRate, step: step)
                }
                offset += item.count
            }
        }
    }

    /// Floats hold every whole number below 2^24 exactly: a step count past it is stored as
    /// two of them, `[step / 2^24, step % 2^24]`.
    static var stepRadix: Int { 1 << 24 }

    /// The slots as `name#i`, and the step count as `step` (one element, or two past 2^24).
    var state: [String: Tensor] {
        var result = ["step": step < Self.stepRadix ? Tensor(Float(step)) : Tensor([Float(step / Self.stepRadix), Float(step % Self.stepRadix)])]
        for (name, tensors) in slots { for (i, t) in tensors.enumerated() { result["\(name)#\(i)"] = t } }
        return result
    }

    /// Checks every slot against its parameter's shape and the rule's slot count, and the step
    /// count, before taking any of it.
    mutating func restore(_ state: [String: Tensor], parameterShapes: [String: [Int]]) throws {
        func fail(_ message: String) -> OptimizerStateError { OptimizerStateError(message: message) }
        let parts = state["step"]?.scalars ?? []
        let isWhole = { (x: Float) in x.isFinite && x >= 0 && x == x.rounded() && x <= 1e12 }
        let fits = parts.count == 1 ? isWhole(parts[0]) : parts.count == 2 && parts.allSatisfy { isWhole($0) && $0 < Float(Self.stepRadix) }
        let stored = fits ? parts.reduce(0) { $0 * Self.stepRadix + Int($1) } : -1
        guard (0...1_000_000_000_000).contains(stored) else { throw fail("its step count is missing or not a whole number from 0 to 10^12") }
        var grouped: [String: [Int: Tensor]] = [:]
        for (key, tensor) in state where key != "step" {
            let parts = key.split(separator: "#", omittingEmptySubsequences: false)
            guard parts.count >= 2, let index = Int(parts.last!), (0..<rule.slotCount).contains(index) else {
                throw fail("'\(key)' is not a state slot of this optimizer (it keeps \(rule.slotCount) per parameter)")
            }
            let name = parts.dropLast().joined(separator: "#")
            guard let shape = parameterShapes[name] else { throw fail("'\(key)' belongs to no parameter of this model") }
            guard tensor.shape == shape else { throw fail("'\(key)' has shape \(tensor.shape), its parameter \(shape)") }
            guard tensor.isFinite else { throw fail("'\(key)' holds values that are not finite") }
            if rule.squaredSlots.contains(index), let negative = tensor.scalars.firstIndex(where: { $0 < 0 }) {
                throw fail("'\(key)' accumulates squared gradients but holds \(tensor.scalars[negative]) at element \(negative)")
            }
            grouped[name, default: [:]][index] = tensor
        }
        var restored: [String: [Tensor]] = [:]
        for (name, tensors) in grouped {
            guard tensors.count == rule.slotCount else { throw fail("parameter '\(name)' has \(tensors.count) state slots, this optimizer keeps \(rule.slotCount)") }
            restored[name] = (0..<rule.slotCount).map { tensors[$0]! }
        }
        slots = restored
        step = stored
    }
}

/// One parameter's elements, gradient and state slots during an update.
struct ElementArrays {
    let p: UnsafeMutablePointer<Float>
    let g: UnsafePointer<Float>
    let slots: [UnsafeMutablePointer<Float>]
    let count: Int
}

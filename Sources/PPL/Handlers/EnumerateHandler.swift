import Distributions
import TensorCore

/// Runs latent sites with finite support over their whole support at once: the values go along
/// a new batch dimension left of all plates (the first site at `firstDim`, the next one further
/// left), so that a discrete latent can be summed out exactly. Sites of a `markov` chain reuse
/// the dimensions of steps more than `history` back.
///
/// Every site that passes records which enumerated site each dimension holds at that moment
/// (`Message.enumeratedVariables`), so a contraction knows what its log-probability depends on.
///
/// ```swift
/// EnumerateHandler(firstDim: -2).run { model.body(x) }   // z takes values [[0], [1], [2]]
/// ```
public final class EnumerateHandler: Handler {
    /// The next fresh dimension (one left of every dimension used so far).
    public private(set) var nextDim: Int
    /// True once a chain site has been given a dimension an earlier step's site held.
    package private(set) var reusesDimensions = false
    private let selected: Set<String>?
    private let chainSlots: Int
    private var holders: [Int: String] = [:]
    private var chainDims: [String: Int] = [:]
    private var stepCounts: [String: Int] = [:]

    /// Enumerates the sites named in `sites` (every finite-support latent site when nil).
    public convenience init(firstDim: Int, sites: Set<String>? = nil) {
        self.init(firstDim: firstDim, sites: sites, chainSlots: 0)
    }

    /// As above, with a chain's dimensions reused `chainSlots` steps later than `history + 1`
    /// (never, for `Int.max`), to check that a model reads no site its chain has reused (see
    /// `checkChainReads`).
    package init(firstDim: Int, sites: Set<String>?, chainSlots: Int) {
        nextDim = firstDim
        selected = sites
        self.chainSlots = chainSlots
    }

    public func process(_ message: inout Message) {
        defer { message.enumeratedVariables = holders }
        if message.kind == .latent, message.value != nil, let dim = message.enumerationDim {
            holders[dim] = message.name
            nextDim = Swift.min(nextDim, dim - 1)
            return
        }
        guard message.kind == .latent, message.value == nil, selected?.contains(message.name) ?? true,
              let distribution = message.distribution, let support = distribution.enumerateSupport() else { return }
        let dim = dimension(for: message)
        let leading = -dim - 1
        let batch = distribution.batchShape
        guard batch.count < -dim || batch[batch.count + dim] == 1 else {
            var reason = "its batch shape \(describeShape(batch)) reaches dimension \(dim), which enumeration needs; give the model's plates fewer dimensions"
            if let step = message.markovStep, let holder = holders[dim] {
                // The dimension is recycled from a chain site the step should no longer depend on.
                let steps = step.history == 1 ? "step" : "steps"
                reason = "its batch shape \(describeShape(batch)) reaches dimension \(dim), which chain '\(step.chain)' reuses from site '\(holder)', more than \(step.history) \(steps) back (markov history \(step.history)); a site that depends on one further back needs markov(\"\(step.chain)\", steps: ..., history: \(step.history + 1)) or more"
            }
            recordDeferredError(ModelError.notEnumerable(site: message.name, location: message.location, reason: reason))
            return
        }
        if let axis = undeclaredBatchAxis(message, distribution) {
            recordDeferredError(ModelError.notEnumerable(site: message.name, location: message.location, reason: "its batch shape \(describeShape(distribution.batchShape)) has dimension \(axis) of size \(distribution.batchShape[distribution.batchShape.count + axis]) that no plate declares; put the site in a plate over it, or make it one vector with .independent(1)"))
            return
        }
        let count = support.shape.first ?? 0
        message.value = support.reshaped(to: [count] + [Int](repeating: 1, count: leading) + distribution.eventShape)
        message.enumerationDim = dim
        holders[dim] = message.name
    }

    /// A fresh dimension, or for a chain step the one its slot used `history + 1` steps ago.
    private func dimension(for message: Message) -> Int {
        guard let step = message.markovStep else { return fresh() }
        let stepKey = "\(step.chain)\u{1}\(step.step)"
        let index = stepCounts[stepKey, default: 0]
        stepCounts[stepKey] = index + 1
        let period = chainSlots == .max ? Int.max : step.history + 1 + chainSlots
        let slotKey = "\(step.chain)\u{1}\(step.step % period)\u{1}\(index)"
        if let dim = chainDims[slotKey] {
            reusesDimensions = true
            return dim
        }
        let dim = fresh()
        chainDims[slotKey] = dim
        return dim
    }

    private func fresh() -> Int {
        defer { nextDim -= 1 }
        return nextDim
    }

    /// A batch axis (negative) of size > 1 that is neither a plate's nor an enumerated site's:
    /// enumerating along it in parallel would tie its elements to one value.
    private func undeclaredBatchAxis(_ message: Message, _ distribution: any Distribution) -> Int? {
        undeclaredAxes(of: distribution.batchShape, declared: Set(message.plates.map(\.dim)).union(holders.keys)).first
    }
}

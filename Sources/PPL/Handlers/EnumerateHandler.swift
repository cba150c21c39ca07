import Distributions
import TensorCore

/// Runs every unobserved latent site with finite support over its whole support at once: the
/// values go along a new batch dimension left of all plates (the first site at `firstDim`,
/// the next one further left), so a discrete latent can be summed out exactly.
///
/// ```swift
/// EnumerateHandler(firstDim: -2).run { model.body(x) }   // z takes values [[0], [1], [2]]
/// ```
public final class EnumerateHandler: Handler {
    private var nextDim: Int

    public init(firstDim: Int) { nextDim = firstDim }

    public func process(_ message: inout Message) {
        guard message.kind == .latent, message.value == nil, let distribution = message.distribution,
              let support = distribution.enumerateSupport() else { return }
        let count = support.shape.first ?? 0
        let eventShape = distribution.eventShape
        let leading = -nextDim - 1
        guard distribution.batchShape.count <= leading else {
            recordDeferredError(ModelError.notEnumerable(site: message.name, reason: "its batch shape \(describeShape(distribution.batchShape)) reaches past dimension \(nextDim) reserved for enumeration"))
            return
        }
        message.value = support.reshaped(to: [count] + [Int](repeating: 1, count: leading) + eventShape)
        message.enumerationDim = nextDim
        nextDim -= 1
    }
}

import TensorCore

/// Gives the named parameter (or deterministic) sites the given values, bypassing the store.
///
/// ```swift
/// SubstituteHandler(["locs": Tensor([[0, 0], [1, 1], [2, 2]])]).run { model.body(x) }
/// ```
public final class SubstituteHandler: Handler {
    let values: [String: Tensor]

    public init(_ values: [String: Tensor]) { self.values = values }

    public func process(_ message: inout Message) {
        guard message.kind == .param, let value = values[message.name] else { return }
        message.value = value
    }
}

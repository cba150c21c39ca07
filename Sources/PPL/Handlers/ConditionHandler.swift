import TensorCore

/// Fixes the named sites to data: they become observed (`condition(model, {"z": value})`).
///
/// ```swift
/// ConditionHandler(["z": Tensor([1, 0, 2])]).run { model.body(x) }
/// ```
public final class ConditionHandler: Handler {
    let values: [String: Tensor]

    public init(_ values: [String: Tensor]) { self.values = values }

    public func process(_ message: inout Message) {
        guard message.kind == .latent || message.kind == .observed, let value = values[message.name] else { return }
        message.value = value
        message.isObserved = true
        message.kind = .observed
    }
}

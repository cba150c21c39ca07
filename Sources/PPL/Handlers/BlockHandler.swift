import TensorCore

/// Hides the sites it matches from handlers outside it (for example, from an outer trace).
///
/// ```swift
/// BlockHandler(hiding: { $0.kind == .param }).run { model.body(x) }
/// ```
public final class BlockHandler: Handler {
    let hides: (Message) -> Bool

    public init(hiding hides: @escaping (Message) -> Bool = { _ in true }) { self.hides = hides }

    public func process(_ message: inout Message) {
        if hides(message) { message.stop = true }
    }
}

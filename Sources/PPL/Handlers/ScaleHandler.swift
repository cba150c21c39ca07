import TensorCore

/// Multiplies the log-probability of every site inside by `factor` (a KL weight, N/M).
///
/// ```swift
/// ScaleHandler(0.5).run { model.body(x) }
/// ```
public final class ScaleHandler: Handler {
    let factor: Float

    public init(_ factor: Float) { self.factor = factor }

    public func process(_ message: inout Message) {
        message.scale *= factor
    }
}

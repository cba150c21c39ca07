import TensorCore

/// Keeps the log-probability of sites inside only where `mask` is nonzero (missing data).
///
/// ```swift
/// MaskHandler(isPresent).run { observe("x", x) ~ Normal(mu, 1) }
/// ```
public final class MaskHandler: Handler {
    let mask: Tensor

    public init(_ mask: Tensor) { self.mask = mask }

    public func process(_ message: inout Message) {
        message.mask = message.mask.map { $0 * mask } ?? mask
    }
}

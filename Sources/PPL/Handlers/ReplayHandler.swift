import TensorCore

/// Gives latent sites the values they have in `trace` (a guide's trace replayed in the model),
/// with the enumeration dimension of a value the guide enumerated.
///
/// ```swift
/// ReplayHandler(guideTrace).run { model.body(x) }   // the model sees the guide's z
/// ```
public final class ReplayHandler: Handler {
    let trace: Trace
    let sites: Set<String>?

    public init(_ trace: Trace) {
        self.trace = trace
        sites = nil
    }

    /// Replays only the sites named in `sites`.
    package init(_ trace: Trace, sites: Set<String>) {
        self.trace = trace
        self.sites = sites
    }

    public func process(_ message: inout Message) {
        guard message.kind == .latent, sites?.contains(message.name) ?? true, let site = trace[message.name] else { return }
        message.value = site.value
        message.enumerationDim = site.enumerationDim
    }
}

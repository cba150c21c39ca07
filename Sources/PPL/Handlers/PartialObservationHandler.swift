import TensorCore

/// Gives the named latent sites the partial observations of another run (a guide run, before
/// the model's: the guide's site then keeps the observed rows, as the model's does).
///
/// ```swift
/// PartialObservationHandler(["y": PartialObservation(value: labels, mask: isLabeled)]).run { guide.body(x, n) }
/// ```
public final class PartialObservationHandler: Handler {
    /// The known values of each partly observed site, by name.
    public let observations: [String: PartialObservation]

    public init(_ observations: [String: PartialObservation]) { self.observations = observations }

    public func process(_ message: inout Message) {
        guard message.kind == .latent, let observation = observations[message.name] else { return }
        message.partialObservation = observation
    }
}

import TensorCore

/// Draws every latent site inside from its own seeded generator, so a run is reproducible.
///
/// ```swift
/// SeedHandler(seed: 0).run { model.body(x) }
/// ```
public final class SeedHandler: Handler {
    public let box: GeneratorBox

    public init(seed: UInt64) { box = GeneratorBox(RandomGenerator(seed: seed)) }
    public init(_ box: GeneratorBox) { self.box = box }

    public func process(_ message: inout Message) {
        if message.generator == nil { message.generator = box }
    }
}

import Distributions
import PPL
import TensorCore

/// Checks of a model the compiler makes beside its prototype trace: what one trace cannot show,
/// found by running the model again.
extension Amortized {
    /// A global site (a latent or parameter outside the data plate) is one value for the whole
    /// data set, so its shape must not follow the minibatch: the model is traced again on one
    /// row fewer (or one more), with fresh parameters, and a global site whose shape changed is
    /// refused. A model that cannot run on the other rows is left to fail where it fails.
    func checkGlobalShapes(_ prototype: Trace, example: Input, datasetSize: Int) throws {
        let rows = example.rowCount
        guard rows >= 1 else { return }
        let other = example.rows(rows > 1 ? Array(0..<(rows - 1)) : [0, 0])
        guard let retraced = try? model.trace(other, Swift.max(datasetSize, other.rowCount), parameters: ParameterStore(), seed: 0) else { return }
        for site in prototype.sites where (site.kind == .latent || site.kind == .param) && site.dataPlate == nil {
            guard let again = retraced[site.name], again.value.shape != site.value.shape else { continue }
            let kind = site.kind == .param ? "a parameter" : "a latent site"
            throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "it is \(kind) outside the data plate, so one value stands for the whole data set, but its shape follows the minibatch (\(Shape.describe(site.value.shape)) for a minibatch of \(rows) row\(rows == 1 ? "" : "s"), \(Shape.describe(again.value.shape)) for \(other.rowCount)); a value per row belongs inside plate(\"data\", size: datasetSize, subsample: x), and a global value's shape must not depend on the rows")
        }
    }

    /// A latent's support is where its guide's bijector maps, and that bijector is built once,
    /// at compile time: bounds made from a parameter or another latent (u ~ Uniform(0, a)) would
    /// leave the guide proposing values outside the support as they move (an objective that
    /// grew without end as a learned bound shrank). The model is run again with every
    /// parameter and latent value watched on a tape, and a support whose bounds depend on them
    /// is refused (a guide written by hand may follow them, so it is not checked).
    func checkSupportsAreFixed(example: Input, datasetSize: Int) throws {
        let tape = GradientTape()
        let watched = ParameterStore()
        for name in parameters.names { watched.setUnconstrained(name, tape.watch(parameters.unconstrained[name]!)) }
        let watcher = LatentWatcher(tape: tape)
        try tape.record { try model.run(example, datasetSize, handlers: [watched, SeedHandler(seed: 0), watcher]) }
        guard let site = watcher.sitesWithMovingBounds.first else { return }
        throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "the bounds of its support are made from a parameter or another latent, and the guide's bijector onto the support is fixed when it is compiled; draw it between fixed bounds (u ~ Uniform(0, 1)) and move it in the model (low + (high - low) * u)")
    }
}

/// Watches every latent value on `tape` and notes the latent sites whose support's bounds are
/// tracked by it.
final class LatentWatcher: Handler {
    let tape: GradientTape
    private(set) var sitesWithMovingBounds: [(name: String, location: SourceLocation)] = []

    init(tape: GradientTape) {
        self.tape = tape
    }

    func process(_ message: inout Message) {
        guard message.kind == .latent, let support = message.distribution?.support else { return }
        let bounds: [Tensor]
        switch support {
        case let .interval(lower, upper): bounds = [lower, upper]
        case let .greaterThan(lower): bounds = [lower]
        default: bounds = []
        }
        if bounds.contains(where: \.isTracked) { sitesWithMovingBounds.append((message.name, message.location)) }
    }

    func postprocess(_ message: inout Message) {
        guard message.kind == .latent, let value = message.value else { return }
        message.value = tape.watch(value)
    }
}

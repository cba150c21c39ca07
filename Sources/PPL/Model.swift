import Distributions
import TensorCore

/// A generative model: a named Swift closure over its data, written with `ModelBuilder`.
///
/// ```swift
/// let coin = Model("coin") { (flips: Tensor) in
///     let bias = latent("bias") ~ Beta(2, 2)
///     plate("flips", size: flips.shape[0]) {
///         observe("flip", flips) ~ Bernoulli(probs: bias)
///     }
/// }
/// let trace = try coin.trace(Tensor([1, 0, 1, 1]))
/// ```
public struct Model<each Input> {
    /// The model's name (`gmm`, `bernoulli-vae`).
    public let name: String
    /// The model's body; run it inside handlers (or call the model inside another model).
    public let body: (repeat each Input) -> ModelOutput

    /// A model called `name` with body `body`.
    public init(_ name: String, @ModelBuilder _ body: @escaping (repeat each Input) -> ModelOutput) {
        self.name = name
        self.body = body
    }

    /// Runs the model as a sub-model of the running model, its site names prefixed `prefix/`.
    @discardableResult
    public func callAsFunction(prefix: String, _ input: repeat each Input) -> ModelOutput {
        ModelScope.$prefix.withValue(ModelScope.qualified(prefix)) { body(repeat each input) }
    }

    /// Runs the body under `handlers` (outermost first) inside an error scope, and throws the
    /// first mistake found, naming its site.
    public func run(_ input: repeat each Input, handlers: [any Handler]) throws {
        try checkingTensorErrors {
            HandlerStack.with(handlers) {
                _ = body(repeat each input)
                annotateDeferredError { error in
                    error is ModelError ? error : ModelError.atSite(site: "(after the last site)", location: SourceLocation(file: "model '\(name)'", line: 0 as Int), underlying: error)
                }
            }
        }
    }

    /// One run recorded site by site: names, kinds, distributions, values, log-probabilities,
    /// shapes, plates and source locations. Parameters come from `parameters` (a fresh store,
    /// holding the initial values, when nil); draws are seeded by `seed` when given.
    public func trace(_ input: repeat each Input, parameters: ParameterStore? = nil, seed: UInt64? = nil) throws -> Trace {
        let recorder = TraceHandler()
        var handlers: [any Handler] = [recorder, parameters ?? ParameterStore()]
        if let seed { handlers.append(SeedHandler(seed: seed)) }
        try run(repeat each input, handlers: handlers)
        return recorder.trace
    }

    /// `log p(x, z)`: the joint log density with the latent sites fixed to `values`.
    public func logJoint(_ input: repeat each Input, values: [String: Tensor], parameters: ParameterStore? = nil) throws -> Tensor {
        let recorder = TraceHandler()
        try run(repeat each input, handlers: [recorder, parameters ?? ParameterStore(), ConditionHandler(values)])
        let trace = recorder.trace
        if let missing = values.keys.sorted().first(where: { trace[$0] == nil }) {
            throw ModelError.noSuchSite(name: missing, model: name, available: trace.names)
        }
        return trace.logJoint
    }

    /// Draws of every site from the prior, observed sites included (the prior predictive):
    /// the data passed in give only the shapes and sizes.
    public func samplePriorPredictive(_ input: repeat each Input, parameters: ParameterStore? = nil, seed: UInt64? = nil) throws -> Trace {
        let recorder = TraceHandler()
        var handlers: [any Handler] = [recorder, parameters ?? ParameterStore(), PredictiveHandler()]
        if let seed { handlers.append(SeedHandler(seed: seed)) }
        try run(repeat each input, handlers: handlers)
        return recorder.trace
    }

    /// `log p(x)` with every finite-support latent site summed out exactly (by enumeration).
    public func logMarginalLikelihood(_ input: repeat each Input, parameters: ParameterStore? = nil) throws -> Tensor {
        let trace = try enumeratedTrace(repeat each input, parameters: parameters ?? ParameterStore())
        return try EnumeratedTrace(trace, model: name).logMarginal()
    }

    /// The exact posterior `p(site | x)` of a finite-support latent site, by enumeration:
    /// probabilities of shape `batchShape + [K]` (for a mixture's component, one row per point).
    public func exactPosterior(_ input: repeat each Input, site: String, parameters: ParameterStore? = nil) throws -> Tensor {
        let trace = try enumeratedTrace(repeat each input, parameters: parameters ?? ParameterStore())
        return try EnumeratedTrace(trace, model: name).posterior(of: site)
    }

    /// A trace with every finite-support latent site enumerated left of the model's plates.
    func enumeratedTrace(_ input: repeat each Input, parameters: ParameterStore) throws -> Trace {
        let prototype = try trace(repeat each input, parameters: parameters)
        let recorder = TraceHandler()
        try run(repeat each input, handlers: [recorder, parameters, EnumerateHandler(firstDim: -prototype.maximumBatchRank - 1)])
        return recorder.trace
    }
}

/// Turns observed sites into draws (for prior predictive sampling).
final class PredictiveHandler: Handler {
    func process(_ message: inout Message) {
        guard message.kind == .observed else { return }
        message.kind = .latent
        message.isObserved = false
        message.value = nil
    }
}

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
public struct Model<each Input>: Sendable {
    /// The model's name (`gmm`, `bernoulli-vae`).
    public let name: String
    /// The model's body; run it inside handlers (or call the model inside another model).
    public let body: @Sendable (repeat each Input) -> ModelOutput

    /// A model called `name` with body `body`.
    public init(_ name: String, @ModelBuilder _ body: @escaping @Sendable (repeat each Input) -> ModelOutput) {
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
        try GuardedValues.$current.withValue(GuardedValues()) {
            try checkingTensorErrors {
                HandlerStack.with(handlers) {
                    _ = body(repeat each input)
                    annotateDeferredError { error in
                        if let read = error as? GuardedValueRead { return read.modelError(place: "after the last site") }
                        return error is ModelError ? error : ModelError.atSite(site: "(after the last site)", location: SourceLocation(file: "model '\(name)'", line: 0 as Int), underlying: error)
                    }
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

    /// `log p(x)` with every latent site summed out exactly (by enumeration): every latent site
    /// must have finite support.
    public func logMarginalLikelihood(_ input: repeat each Input, parameters: ParameterStore? = nil) throws -> Tensor {
        let (trace, batchRank) = try enumeratedTrace(repeat each input, parameters: parameters ?? ParameterStore())
        return try Contraction(factors: trace.factors, variables: trace.summedVariables, batchRank: batchRank).total()
    }

    /// `log p(x_n)` for each element `n` of the plate called `plate` (each row of the data, for
    /// the data plate), every latent site summed out exactly: every latent site must have
    /// finite support and the global ones none, as the sum would not split by element.
    public func pointwiseLogMarginalLikelihood(_ input: repeat each Input, plate: String, parameters: ParameterStore? = nil) throws -> Tensor {
        let (trace, batchRank) = try enumeratedTrace(repeat each input, parameters: parameters ?? ParameterStore())
        guard let frame = trace.sites.lazy.flatMap(\.plates).first(where: { $0.name == plate }) else {
            throw ModelError.noSuchSite(name: "plate '\(plate)'", model: name, available: Array(Set(trace.sites.flatMap(\.plates).map(\.name))).sorted())
        }
        return try Contraction(factors: trace.factors, variables: trace.summedVariables, batchRank: batchRank).perElement(of: frame)
    }

    /// The exact posterior `p(site | x)` of a latent site with finite support, by enumeration:
    /// probabilities of shape `batchShape + [K]` (for a mixture's component, one row per point).
    /// Every latent site must have finite support. The marginal is the gradient of `log p(x)`
    /// with respect to a zero potential on the site (the forward-backward algorithm, on a chain).
    public func exactPosterior(_ input: repeat each Input, site name: String, parameters: ParameterStore? = nil) throws -> Tensor {
        let (trace, batchRank) = try enumeratedTrace(repeat each input, parameters: parameters ?? ParameterStore())
        guard let site = trace[name], site.kind == .latent, let dim = site.enumerationDim else {
            throw ModelError.noSuchSite(name: name, model: self.name, available: trace.latentSites.map(\.name))
        }
        let count = site.value.shape.first ?? 1
        let batch = Array(([Int](repeating: 1, count: batchRank) + site.batchShape).suffix(batchRank))
        let potentialShape = [count] + [Int](repeating: 1, count: -dim - 1 - batchRank) + batch
        let potential = Tensor.zeros(potentialShape)
        let (_, gradients) = try valueWithGradient(at: [potential]) { tracked in
            let extra = Factor(tracked[0], variables: [dim: name], plates: site.plates, site: name, location: site.location)
            return try Contraction(factors: trace.factors + [extra], variables: trace.summedVariables, batchRank: batchRank).total()
        }
        let scale = site.plateScale
        let depth = site.plates.map { -$0.dim }.max() ?? 0
        var kept = batch
        while kept.count > depth, kept.first == 1 { kept.removeFirst() }
        let marginal = (scale == 0 ? gradients[0] : gradients[0] / scale).reshaped(to: [count] + kept)
        // Each distribution sums to 1: dividing by its sum removes the rounding of the total
        // log-probability, shared by every entry (about 2e-4 when a global site is summed
        // over 3000 rows, whose total is near -6558).
        let unnormalized = marginal.permuted(Array(1..<marginal.rank) + [0])
        let posterior = unnormalized / clamp(unnormalized.sum(axis: -1, keepDims: true), min: .leastNonzeroMagnitude)
        guard let observation = site.partialObservation, let support = site.distribution?.enumerateSupport() else { return posterior }
        let values = support.reshaped(to: [count, -1])
        let observed = observation.value.reshaped(to: Array(observation.value.shape.dropLast(site.eventShape.count)) + [1, values.shape[1]])
        let oneHot = (observed .== values).sum(axis: -1) .== Tensor(Float(values.shape[1]))
        return select(observation.mask.unsqueezed(axis: -1), oneHot, posterior)
    }

    /// A trace with every latent site enumerated left of the model's plates, and the batch rank
    /// those plates take; throws if a latent site has infinite support.
    func enumeratedTrace(_ input: repeat each Input, parameters: ParameterStore) throws -> (Trace, Int) {
        let prototype = try trace(repeat each input, parameters: parameters)
        if let continuous = prototype.latentSites.first(where: { $0.distribution?.enumerateSupport() == nil }) {
            let family = continuous.distribution.map { "\(type(of: $0))" } ?? "no distribution"
            let support = (continuous.distribution as? any ProductOfElements)?.finiteCombinations.map { product in
                "its support is finite but too large to list: \(product.elements) elements of \(product.valuesEach) values each make \(product.valuesEach)^\(product.elements) combinations, more than the \(Independent<Bernoulli>.enumerationLimit) listed (\(family))"
            } ?? "it has infinite support (\(family))"
            throw ModelError.notEnumerable(site: continuous.name, location: continuous.location, reason: "\(support); exact posteriors and marginal likelihoods need every latent site to be discrete with a finite support to list; estimate log p(x) by importance sampling with a trained guide instead")
        }
        try prototype.checkObservationsAreCountedOnce()
        try checkNumberReads(of: prototype.latentSites.map(\.name), repeat each input, parameters: parameters)
        try checkSummedValuesStayApart(Set(prototype.latentSites.map(\.name)), prototype: prototype, repeat each input, parameters: parameters)
        let batchRank = prototype.maximumBatchRank
        let trace = try checkChainReads(firstDim: -batchRank - 1) { enumerate in
            let recorder = TraceHandler()
            try run(repeat each input, handlers: [recorder, parameters, enumerate])
            return recorder.trace
        }
        return (trace, batchRank)
    }
}

/// Turns observed sites into draws (for prior predictive sampling).
final class PredictiveHandler: Handler {
    func process(_ message: inout Message) {
        message.partialObservation = nil
        guard message.kind == .observed else { return }
        message.kind = .latent
        message.isObserved = false
        message.value = nil
    }
}

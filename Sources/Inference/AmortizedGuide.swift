import Distributions
import NN
import PPL
import TensorCore

/// The compiled guide as a program in the modeling language: encoder networks registered with
/// `module`, mean-field parameters with `param`, and one `latent` site per model site, so that
/// the same handlers (trace, replay, enumerate, seed) run it as they run the model.
struct AmortizedGuide {
    let plan: GuidePlan
    let options: CompilerOptions
    /// Numbers per datapoint of the minibatch (the encoder's data input).
    let dataSize: Int

    /// Outputs per datapoint of a local site's head.
    static func headOutputs(_ site: GuideSite) -> Int {
        let values = site.valueShape.reduce(1, *)
        let unconstrained = site.unconstrainedShape.reduce(1, *)
        switch site.family {
        case .normal: return 2 * unconstrained
        case .multivariateNormal: return unconstrained + unconstrained * unconstrained
        case let .categorical(count): return count
        case .bernoulli, .poisson: return values
        case .delta, .handWritten: return unconstrained
        }
    }

    /// The encoder input size of each local site (data, plus upstream continuous local latents).
    func inputSize(of site: GuideSite) -> Int {
        guard !options.sharedTrunk else { return options.hiddenSizes.last ?? dataSize }
        return dataSize + upstream(of: site).map { $0.valueShape.reduce(1, *) }.reduce(0, +)
    }

    func upstream(of site: GuideSite) -> [GuideSite] {
        guard !options.sharedTrunk, let index = plan.sites.firstIndex(where: { $0.name == site.name }) else { return [] }
        return plan.sites[..<index].filter { $0.plate != nil && $0.estimator != .enumerated }
    }

    /// The network of a local site's head: the user's, or an MLP from the options.
    func network(for site: GuideSite) throws -> MLP {
        let outputs = Self.headOutputs(site)
        if let custom = options.heads[site.name] {
            guard custom.sizes.last == outputs else { throw CompilerError.headSize(site: site.name, expected: outputs, got: custom.sizes.last ?? 0) }
            guard custom.sizes.first == inputSize(of: site) else {
                throw CompilerError.unsupportedSite(site: site.name, reason: "the custom head takes \(custom.sizes.first ?? 0) inputs, the encoder input has \(inputSize(of: site))")
            }
            return custom
        }
        let hidden = options.sharedTrunk ? [] : options.hiddenSizes
        return MLP([inputSize(of: site)] + hidden + [outputs], activation: options.activation)
    }

    /// The plan with each local head's parameter count filled in.
    func countedPlan() throws -> GuidePlan {
        var sites = plan.sites
        for index in sites.indices where sites[index].plate != nil {
            sites[index].parameterCount = try network(for: sites[index]).parameterSlots.map { $0.shape.reduce(1, *) }.reduce(0, +)
        }
        return GuidePlan(model: plan.model, sites: sites, maximumBatchRank: plan.maximumBatchRank)
    }

    /// The guide program, taking the model's inputs.
    func program() throws -> Model<Tensor, Int> {
        let networks = try Dictionary(uniqueKeysWithValues: plan.sites.filter { $0.plate != nil }.map { ($0.name, try network(for: $0)) })
        let trunk = options.sharedTrunk ? MLP([dataSize] + options.hiddenSizes, activation: options.activation, outputActivation: options.activation) : nil
        return Model("guide of \(plan.model)") { (x: Tensor, datasetSize: Int) in
            run(x, datasetSize: datasetSize, networks: networks, trunk: trunk)
        }
    }

    /// The guide with each local head's outputs replaced by free per-datapoint parameters
    /// `refine.<site>` starting at `initial[site]` (for measuring the amortization gap).
    func refinedProgram(initial: [String: Tensor]) -> Model<Tensor, Int> {
        Model("refined guide of \(plan.model)") { (x: Tensor, datasetSize: Int) in
            run(x, datasetSize: datasetSize, networks: [:], trunk: nil, free: initial)
        }
    }

    /// The raw head outputs of every local site for the rows `x` (model parameters as stored).
    func headOutputs(_ x: Tensor, parameters: ParameterStore) throws -> [String: Tensor] {
        let recorder = HeadRecorder()
        let program = try self.program()
        try program.run(x, x.shape[0], handlers: [parameters, recorder])
        return recorder.outputs
    }

    func run(_ x: Tensor, datasetSize: Int, networks: [String: MLP], trunk: MLP?, free: [String: Tensor] = [:]) {
        let rows = x.shape.first ?? 0
        let data = x.reshaped(to: [rows, -1])
        let features = trunk.map { module("guide.trunk", $0)(data) } ?? data
        var sampled: [String: Tensor] = [:]
        for site in plan.sites {
            if let plate = site.plate, let raw = free[site.name].map({ initial in param("refine.\(site.name)", initial) }) ?? networks[site.name].map({ network in
                let inputs = [features] + upstream(of: site).compactMap { sampled[$0.name]?.reshaped(to: [rows, -1]) }
                return module("guide.\(site.name)", network)(inputs.count == 1 ? features : Tensor.concatenate(inputs, axis: 1))
            }) {
                HeadRecorder.record(site.name, raw)
                let q = localDistribution(site, raw: raw, rows: rows)
                PPL.plate(plate.name, size: plate.size, subsampleSize: rows, dim: plate.dim) {
                    sampled[site.name] = latent(site.name) ~ q
                }
            } else {
                sampled[site.name] = latent(site.name) ~ globalDistribution(site)
            }
        }
    }

    func localDistribution(_ site: GuideSite, raw: Tensor, rows: Int) -> any Distribution {
        let shape = [rows] + site.valueShape
        let unconstrained = [rows] + site.unconstrainedShape
        let d = site.unconstrainedShape.reduce(1, *)
        switch site.family {
        case .normal:
            let loc = raw.slice(axis: 1, 0..<d).reshaped(to: unconstrained)
            let scale = softplus(raw.slice(axis: 1, d..<(2 * d))).reshaped(to: unconstrained) + 1e-5
            return pushed(site, Normal(loc, scale))
        case .multivariateNormal:
            let loc = raw.slice(axis: 1, 0..<d)
            let factor = LowerCholeskyBijector().forward(raw.slice(axis: 1, d..<(d + d * d)).reshaped(to: [rows, d, d]))
            return MultivariateNormal(loc: loc, scaleTril: factor)
        case .categorical:
            return Categorical(logits: raw)
        case .bernoulli:
            return independent(Bernoulli(logits: raw.reshaped(to: shape)), site.eventRank)
        case .poisson:
            return independent(Poisson(rate: softplus(raw).reshaped(to: shape) + 1e-6), site.eventRank)
        case .delta, .handWritten:
            let bijector = site.support.bijector ?? IdentityBijector()
            return Delta(bijector.forward(raw.reshaped(to: unconstrained)), eventRank: site.eventRank)
        }
    }

    func globalDistribution(_ site: GuideSite) -> any Distribution {
        let loc = param("guide.\(site.name).loc", Tensor.zeros(site.unconstrainedShape))
        if site.family == .delta {
            let bijector = site.support.bijector ?? IdentityBijector()
            return Delta(bijector.forward(loc), eventRank: site.eventRank)
        }
        let scale = param("guide.\(site.name).scale", Tensor.full(site.unconstrainedShape, 0.1), constraint: .positive)
        return pushed(site, Normal(loc, scale))
    }

    /// A normal on the unconstrained space pushed onto the site's support, with the site's
    /// event axes as its event.
    func pushed(_ site: GuideSite, _ base: Normal) -> any Distribution {
        guard let bijector = site.support.bijector, !(bijector is IdentityBijector) else {
            return independent(base, site.eventRank)
        }
        let transformed = TransformedDistribution(base, bijector)
        return independent(transformed, site.eventRank - bijector.domainEventRank)
    }

    func independent<D: Distribution>(_ d: D, _ rank: Int) -> any Distribution {
        rank > 0 ? d.independent(rank) : d
    }
}

/// Collects the raw head outputs of a guide run (a handler that only listens).
final class HeadRecorder: Handler {
    var outputs: [String: Tensor] = [:]

    func process(_ message: inout Message) {
        guard message.kind == .deterministic, message.name.hasPrefix("head:") else { return }
        outputs[String(message.name.dropFirst(5))] = message.value
        message.stop = true
    }

    /// Announces a head's output as a deterministic site that only a `HeadRecorder` sees.
    static func record(_ site: String, _ raw: Tensor) {
        guard HandlerStack.handlers.contains(where: { $0 is HeadRecorder }) else { return }
        deterministic("head:\(site)", raw)
    }
}

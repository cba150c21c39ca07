import Distributions
import Foundation
import PPL
import TensorCore

/// One estimate of the evidence lower bound of a minibatch.
///
/// `ELBO = E_q[log p(x, z) - log q(z | x)]`, site by site as the plan says: `-beta KL(q || p)` in
/// closed form, or `beta (log p(z) - log q(z))` at the guide's draw; a site the guide enumerates
/// contributes its terms averaged under `q`, a site summed out of the model is summed out of
/// `p`. All of it goes through one `Contraction`, with each plate's N/M.
struct ELBOEstimate {
    /// The estimate, differentiable (with the score-function surrogate added when needed).
    let objective: Tensor
    /// The estimate itself, for reporting.
    let value: Float
    /// The model and guide traces, for diagnostics.
    let modelTrace: Trace
    let guideTrace: Trace
}

/// Runs the guide and the model once and forms the ELBO, or importance weights, of their traces.
struct ELBOComputation<Input: RowData> {
    let model: Model<Input, Int>
    let guide: Model<Input, Int>
    let plan: GuidePlan
    let modelParameters: ParameterStore
    let guideParameters: ParameterStore
    let generator: GeneratorBox
    /// Sites of listed values that the guide draws from a defensive proposal instead of q
    /// (`DefensiveProposal`), for importance sampling.
    var defensiveSites: Set<String> = []

    var batchRank: Int { plan.maximumBatchRank }

    /// The guide's trace (its enumerated sites run over their supports) and the model's trace
    /// replaying it (its summed-out sites run over theirs, further left). The guide sees
    /// `guideInput` when given (rows with missing entries filled in), the model `data`;
    /// `guideEnumeration` replaces the handler that enumerates the guide's sites. The rows are
    /// checked for reads of masked entries unless `checkingMaskedReads` is false (a later draw
    /// on rows already checked).
    func traces(_ data: Input, guideInput: Input? = nil, datasetSize: Int, guideEnumeration given: EnumerateHandler? = nil, checkingMaskedReads: Bool = true) throws -> (guide: Trace, model: Trace) {
        let enumerated = Set(plan.sites.filter { $0.estimator == .enumerated }.map(\.name))
        let summedOut = Set(plan.sites.filter { $0.estimator == .marginalized }.map(\.name))
        let guideRecorder = TraceHandler()
        let scored = Set(plan.sites.filter { $0.estimator == .scoreFunction }.map(\.name))
        var guideHandlers: [any Handler] = [guideRecorder, guideParameters]
        if !plan.partlyObservedNames.isEmpty { guideHandlers.append(PartialObservationHandler(try partialObservations(data, datasetSize: datasetSize))) }
        if !scored.isEmpty { guideHandlers.append(DetachedDrawHandler(sites: scored)) }
        if !defensiveSites.isEmpty { guideHandlers.append(DefensiveProposalHandler(sites: defensiveSites, epsilon: 0.1)) }
        guideHandlers.append(SeedHandler(generator))
        let guideEnumeration = given ?? EnumerateHandler(firstDim: -batchRank - 1, sites: enumerated)
        if !enumerated.isEmpty { guideHandlers.append(guideEnumeration) }
        try guide.run(guideInput ?? data, datasetSize, handlers: guideHandlers)
        let modelRecorder = TraceHandler()
        var modelHandlers: [any Handler] = [modelRecorder, modelParameters, SeedHandler(generator)]
        if !enumerated.isEmpty || !summedOut.isEmpty { modelHandlers.append(EnumerateHandler(firstDim: guideEnumeration.nextDim, sites: summedOut)) }
        modelHandlers.append(ReplayHandler(guideRecorder.trace))
        do {
            try model.run(data, datasetSize, handlers: modelHandlers)
        } catch let ModelError.atSite(site, location, underlying) where underlying is TensorError && !(enumerated.isEmpty && summedOut.isEmpty) {
            let names = (enumerated.union(summedOut)).sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw CompilerError.unsupportedSite(site: site, location: location, reason: "\(underlying), while the model ran with \(names) enumerated: each holds every value of its support along a dimension of its own, left of the plates, so an index into its value picks from the support. Index a plate's axis with gathering(_:axis:), or have the site drawn instead (CompilerOptions.estimators[name] = .scoreFunction)")
        }
        try checkSites(guide: guideRecorder.trace, model: modelRecorder.trace)
        if checkingMaskedReads { try checkMaskedEntriesAreUnread(modelRecorder.trace, data, datasetSize: datasetSize) }
        try checkDataPlateSize(modelRecorder.trace, datasetSize: datasetSize)
        try checkDataPlateSize(guideRecorder.trace, datasetSize: datasetSize)
        return (guideRecorder.trace, modelRecorder.trace)
    }

    /// Refuses a guide's enumerated `markov` chain read, by the guide or by the model, after
    /// the chain gave a site's dimension to a later step's site (see `checkChainReads`).
    func checkGuideChainReads(_ data: Input, datasetSize: Int) throws {
        let enumerated = Set(plan.sites.filter { $0.estimator == .enumerated }.map(\.name))
        guard !enumerated.isEmpty else { return }
        _ = try checkChainReads(firstDim: -batchRank - 1, sites: enumerated) { try traces(data, datasetSize: datasetSize, guideEnumeration: $0).guide }
        _ = try checkChainReads(firstDim: -batchRank - 1, sites: enumerated, runs: { enumerate in
            let (guide, model) = try traces(data, datasetSize: datasetSize, guideEnumeration: enumerate)
            return (model, guide)
        })
    }

    /// The data plate must have as many rows as the data set the model is given: with another
    /// size, each minibatch is scaled by the wrong N/M and the ELBO is no bound on log p(x).
    func checkDataPlateSize(_ trace: Trace, datasetSize: Int) throws {
        guard let site = trace.sites.first(where: { $0.dataPlate != nil }), let plate = site.dataPlate, plate.size != datasetSize else { return }
        throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "its data plate '\(plate.name)' has size \(plate.size), but the data set has \(datasetSize) rows, so each minibatch of \(plate.subsampleSize) would be scaled by \(plate.size)/\(plate.subsampleSize) instead of \(datasetSize)/\(plate.subsampleSize); declare it plate(\"\(plate.name)\", size: datasetSize, subsample: x) with the data set size the model is given")
    }

    /// The observed rows of each partly observed site, from a run of the model without
    /// gradients (the guide runs first, and must keep those rows as the model will).
    func partialObservations(_ data: Input, datasetSize: Int) throws -> [String: PartialObservation] {
        let recorder = TraceHandler()
        try withoutGradient {
            try model.run(data, datasetSize, handlers: [recorder, modelParameters, SeedHandler(GeneratorBox(RandomGenerator(seed: 0)))])
        }
        var observations: [String: PartialObservation] = [:]
        for name in plan.partlyObservedNames {
            if let observation = recorder.trace[name]?.partialObservation { observations[name] = observation }
        }
        return observations
    }

    /// The model must run the plan's latent sites and observe its observed ones, and the guide
    /// must sample each guided one: a site that comes and goes with the minibatch would leave
    /// its terms out of some steps.
    func checkSites(guide: Trace, model: Trace) throws {
        for name in plan.observedSites.keys.sorted() where model[name]?.kind != .observed {
            throw CompilerError.guideMismatch(site: name, reason: "the model did not observe this site on this minibatch, though it did when compiled; its observed sites must not depend on the data's values")
        }
        if !plan.observedSites.isEmpty, let extra = model.observedSites.first(where: { plan.observedSites[$0.name] == nil }) {
            throw CompilerError.guideMismatch(site: extra.name, reason: "the model observed a site at \(extra.location) that was not there when the guide was compiled; its observed sites must not depend on the data's values")
        }
        for site in plan.sites {
            guard model[site.name]?.kind == .latent else {
                throw CompilerError.guideMismatch(site: site.name, reason: "the model did not run this latent site (at \(site.location) when compiled) on this minibatch; its latent sites must not depend on the data's values")
            }
            guard site.isGuided else { continue }
            guard let drawn = guide[site.name] else {
                throw CompilerError.guideMismatch(site: site.name, reason: "the guide did not sample this site")
            }
            // The model's mask says which entries are absent, and their guide terms go with them.
            if drawn.mask != nil {
                throw CompilerError.guideMismatch(site: site.name, reason: "the guide draws it under a MaskHandler (at \(drawn.location)), which would leave out log q where the model keeps log p; mask the site in the model, and the guide's terms are left out with the model's")
            }
            // A hand-written guide's plates on this minibatch: a plate without subsample: passed
            // on a compile example of every row and went unscaled on minibatches.
            if site.guideFamily is HandWrittenFamily, let modelSite = model[site.name], let reason = HandWrittenGuide.plateMismatch(drawn.plates, model: modelSite.plates) {
                throw CompilerError.guideMismatch(site: site.name, reason: reason + " (on a minibatch of \(modelSite.dataPlate?.subsampleSize ?? 0) rows; the guide's site is at \(drawn.location))")
            }
        }
        if let extra = model.latentSites.first(where: { plan[$0.name] == nil }) {
            throw CompilerError.guideMismatch(site: extra.name, reason: "the model ran a latent site at \(extra.location) that was not there when the guide was compiled; its latent sites must not depend on the data's values")
        }
    }

    /// One-particle ELBO with KL weight `beta`; `baselines` holds the score-function baselines.
    /// With `supervision` alpha > 0 the objective also gains `alpha log q(y | x)` at each observed
    /// row of a partly observed site (Kingma et al. 2014's classification term), which the
    /// reported value leaves out.
    func estimate(_ data: Input, datasetSize: Int, beta: Float, supervision: Float = 0, baselines: inout [String: Float], checkingMaskedReads: Bool = true) throws -> ELBOEstimate {
        let (guideTrace, modelTrace) = try traces(data, datasetSize: datasetSize, checkingMaskedReads: checkingMaskedReads)
        let contraction = try elboContraction(guide: guideTrace, model: modelTrace, beta: beta)
        let total = try contraction.total()
        let value = total.scalar
        var objective = total
        if supervision > 0 {
            for name in plan.partlyObservedNames.sorted() {
                guard let q = guideTrace[name]?.distribution, let site = modelTrace[name], let observation = site.partialObservation else { continue }
                // Scored at the known values, and at a value of the support where unknown (the
                // placeholder there, -1 say, is not one, and is masked out of the sum anyway).
                let filler = q.enumerateSupport().map { $0.slice(axis: 0, 0..<1).reshaped(to: Array($0.shape.dropFirst())) } ?? q.mean
                let scored = observation.merged(into: filler.expanded(to: q.batchShape + q.eventShape), eventRank: q.eventShape.count)
                objective = objective + supervision * site.plateScale * (select(observation.mask, q.logProb(scored), Tensor(0))).sum()
            }
        }
        for site in plan.sites where site.estimator == .scoreFunction {
            objective = objective + (try surrogate(site, guide: guideTrace, model: modelTrace, contraction: contraction, value: value, baselines: &baselines))
        }
        return ELBOEstimate(objective: objective, value: value, modelTrace: modelTrace, guideTrace: guideTrace)
    }

    /// The ELBO's factors and variables, contracted.
    func elboContraction(guide: Trace, model: Trace, beta: Float) throws -> Contraction {
        var factors: [Factor] = []
        var variables: [EnumeratedVariable] = []
        for site in model.sites {
            guard let logProb = site.logProb else { continue }
            guard site.kind == .latent, let entry = plan[site.name] else {
                factors.append(modelFactor(site, logProb))
                continue
            }
            if entry.estimator == .marginalized {
                factors.append(modelFactor(site, logProb))
                factors += [site.partialObservationCorrection].compactMap { $0 }
                variables.append(summedVariable(site))
                continue
            }
            let guided = try guideSite(site.name, in: guide)
            let observed = site.partialObservation?.mask
            let dims = site.enumeratedVariables.merging(guided.site.enumeratedVariables) { own, _ in own }
            if entry.estimator == .analyticKL, let p = site.distribution {
                let kl = try klDivergence(guided.q, p)
                factors.append(Factor(droppingMaskedEntries(-kl, of: site), variables: dims, plates: site.plates, scale: site.userScale * beta, site: site.name, location: site.location))
            } else {
                factors.append(Factor(logProb, variables: site.enumeratedVariables, plates: site.plates, scale: site.userScale * beta, site: site.name, location: site.location))
                let logQ = entry.estimator == .enumerated ? guided.logProb : droppingMaskedEntries(guided.logProb, of: site)
                let entropyTerm = observed.map { select($0, Tensor(0), -logQ) } ?? -logQ
                factors.append(Factor(entropyTerm, variables: logQ.rank > guided.logProb.rank ? dims : guided.site.enumeratedVariables, plates: guided.site.plates, scale: guided.site.userScale * beta, site: site.name, location: site.location))
            }
            if entry.estimator == .enumerated {
                let logWeights = observed.map { select($0, sliceLogWeight(guided.site.value.shape.first ?? 1), guided.logProb) } ?? guided.logProb
                let weights = Factor(logWeights, variables: guided.site.enumeratedVariables, plates: guided.site.plates, site: site.name, location: site.location)
                variables.append(EnumeratedVariable(name: site.name, size: guided.site.value.shape.first ?? 1, plates: guided.site.plates, elimination: .expectation(weights), location: site.location))
            }
        }
        return try Contraction(factors: factors, variables: variables, batchRank: batchRank)
    }

    /// The contraction of `log p(x, z) - log q(z)` for the guide's draws, every enumerated site
    /// summed out of the joint (their `q` cancels): `log` of one importance weight.
    func importanceContraction(guide: Trace, model: Trace) throws -> Contraction {
        var factors: [Factor] = []
        var variables: [EnumeratedVariable] = []
        for site in model.sites {
            guard let logProb = site.logProb else { continue }
            factors.append(modelFactor(site, logProb))
            guard site.kind == .latent, let entry = plan[site.name] else { continue }
            if site.enumerationDim != nil {
                factors += [site.partialObservationCorrection].compactMap { $0 }
                variables.append(summedVariable(site))
            } else if entry.isGuided {
                let guided = try guideSite(site.name, in: guide)
                let logQ = droppingMaskedEntries(guided.logProb, of: site)
                let dims = logQ.rank > guided.logProb.rank ? site.enumeratedVariables.merging(guided.site.enumeratedVariables) { own, _ in own } : guided.site.enumeratedVariables
                factors.append(Factor(-logQ, variables: dims, plates: guided.site.plates, scale: guided.site.userScale, site: site.name, location: site.location))
            }
        }
        return try Contraction(factors: factors, variables: variables, batchRank: batchRank)
    }

    /// Per-row log importance weights `log p(x_n, z_n) - log q(z_n | x_n)` for one draw of the
    /// guide, shape `[rows]`; needs every guided site inside the data plate. The guide is checked
    /// for densities (`requireDensities`), and the rows for reads of masked entries, when
    /// `checkingDensities`: the first draw of an estimate decides for them all, since the later
    /// draws come from the same guide on the same rows.
    func logWeights(_ data: Input, checkingDensities: Bool) throws -> Tensor {
        try logWeightsAndScores(data, checkingDensities: checkingDensities).weights
    }

    /// `logWeights`, with each row's `log q` of the values the guide draws by the score function
    /// (summed over its sites and entries, on the tape; nil when it draws none): the score that
    /// the gradient of an importance-weighted bound needs for draws no gradient passes through.
    func logWeightsAndScores(_ data: Input, checkingDensities: Bool) throws -> (weights: Tensor, scores: Tensor?) {
        try requireLocalLatents(figure: "log p(x)", whole: "importanceSampledLogMarginalLikelihood")
        let (guideTrace, modelTrace) = try traces(data, datasetSize: data.rowCount, checkingMaskedReads: checkingDensities)
        if checkingDensities { try requireDensities(guideTrace) }
        guard let plate = currentDataPlate(modelTrace) else { return (Tensor.zeros([data.rowCount]), nil) }
        let weights = try importanceContraction(guide: guideTrace, model: modelTrace).perElement(of: plate)
        var scores: Tensor?
        for site in plan.sites where site.estimator == .scoreFunction {
            // Unmasked, as in the ELBO's surrogate.
            let logQ = try guideSite(site.name, in: guideTrace).logProb
            guard let sitePlate = site.plate, logQ.rank <= plan.maximumBatchRank else {
                throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "it is drawn by the score function and its guide reads a site the guide enumerates, so its draws have no one score per row for the importance-weighted bound; train on the ELBO, or have it enumerated (CompilerOptions.estimators[\"\(site.name)\"] = .enumerated)")
            }
            let rowLogQ = perRow(logQ, plate: sitePlate)
            scores = scores.map { $0 + rowLogQ } ?? rowLogQ
        }
        return (weights, scores)
    }

    /// `log p(x, z) - log q(z | x)` of all the rows at once for one draw of the guide, checked for
    /// densities as `logWeights` is.
    func jointLogWeight(_ data: Input, checkingDensities: Bool) throws -> Tensor {
        let (guideTrace, modelTrace) = try traces(data, datasetSize: data.rowCount, checkingMaskedReads: checkingDensities)
        if checkingDensities { try requireDensities(guideTrace) }
        return try importanceContraction(guide: guideTrace, model: modelTrace).total()
    }

    /// An importance weight needs a proposal with a density: with a point estimate z* the
    /// weight is p(x, z*), whatever k, which is no estimate of p(x). A point estimate is a guide
    /// that says so (`isPointMass`), or one over a continuous support with no variance whose two
    /// draws are the same everywhere, which no density gives (a point mass of the user's own
    /// type); the draws come from a generator of their own, so the run's draws do not move.
    func requireDensities(_ guide: Trace) throws {
        var generator = RandomGenerator(seed: 0x9017_3A55)
        let isPointEstimate = { (q: any Distribution) -> Bool in
            if q.isPointMass { return true }
            guard !q.hasDiscreteValues, withoutGradient({ q.variance }).scalars.allSatisfy({ $0 == 0 }) else { return false }
            let draws = withoutGradient { q.sample([2], using: &generator) }.reshaped(to: [2, -1]).scalars
            let half = draws.count / 2
            return half > 0 && draws[..<half].elementsEqual(draws[half...])
        }
        guard let point = guide.latentSites.first(where: { $0.distribution.map(isPointEstimate) ?? false }) else { return }
        throw CompilerError.unsupportedSite(site: point.name, location: plan[point.name]?.location ?? point.location, reason: "its guide is a point estimate, which has no density, so importance weights p(x, z) / q(z | x) do not estimate p(x) (nor give a bound); learn it with a distribution to evaluate log p(x) or train on the importance-weighted bound")
    }

    /// `log p(x | z)` of each row at one draw `z ~ q(z | x)`: the observed sites' terms inside
    /// the data plate, shape `[rows]`.
    func reconstructionLogProbability(_ data: Input) throws -> Tensor {
        try requireEveryLatentDrawn(for: "the reconstruction probability")
        let (_, modelTrace) = try traces(data, datasetSize: data.rowCount)
        var total = Tensor.zeros([data.rowCount])
        for site in modelTrace.observedSites {
            guard let plate = site.dataPlate, let logProb = site.logProb else { continue }
            total = total + perRow(logProb, plate: plate)
        }
        return total
    }

    /// Refuses a plan with a latent that is summed over rather than drawn, naming it: `purpose`
    /// needs a draw of every latent.
    func requireEveryLatentDrawn(for purpose: String) throws {
        if let site = plan.sites.first(where: { $0.estimator == .enumerated || $0.estimator == .marginalized }) {
            throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "it is summed over, not drawn, and \(purpose) needs a draw of every latent")
        }
    }

    /// Refuses a model with a latent site outside the data plate (guided or summed) for a
    /// `figure` per row: that site's terms belong to no row; `whole` is the figure for all rows.
    func requireLocalLatents(figure: String, whole: String) throws {
        if let global = plan.sites.first(where: { $0.plate == nil }) {
            throw CompilerError.unsupportedSite(site: global.name, location: global.location, reason: "it is global, so \(figure) does not split into one term per row; use \(whole) for the whole data set")
        }
    }

    /// A site's log-probability summed over every axis but the data plate's: one term per row.
    func perRow(_ logProb: Tensor, plate: PlateFrame) -> Tensor {
        let axis = logProb.rank + plate.dim
        let others = (0..<logProb.rank).filter { $0 != axis }
        return (others.isEmpty ? logProb : logProb.sum(axes: others)).reshaped(to: [-1])
    }

    /// The ELBO per row, shape `[rows]`; needs every latent site inside the data plate.
    func pointwiseELBO(_ data: Input) throws -> Tensor {
        try requireLocalLatents(figure: "the ELBO", whole: "elbo(_:datasetSize:)")
        let (guideTrace, modelTrace) = try traces(data, datasetSize: data.rowCount)
        guard let plate = currentDataPlate(modelTrace) else { return Tensor.zeros([data.rowCount]) }
        return try elboContraction(guide: guideTrace, model: modelTrace, beta: 1).perElement(of: plate)
    }

    /// The score-function surrogate of `site`: `log q(z) * (cost - baseline)` with the cost held
    /// fixed, where the cost of a local site's draw is its own row's ELBO (every term of the row
    /// depends on it, nothing of another row does) and of a global site's the whole ELBO. The
    /// baseline is a moving average of earlier steps' costs (starting at 0): one that used this
    /// step's costs would depend on the draw and bias the gradient.
    func surrogate(_ site: GuideSite, guide: Trace, model: Trace, contraction: Contraction, value: Float, baselines: inout [String: Float]) throws -> Tensor {
        // Unmasked: a masked entry's cost does not depend on its draw, so its score adds nothing
        // on average.
        let logQ = try guideSite(site.name, in: guide).logProb
        guard let plate = site.plate, let frame = currentDataPlate(model) else {
            let baseline = baselines[site.name] ?? 0
            baselines[site.name] = 0.9 * baseline + 0.1 * value
            return logQ.sum() * (value - baseline)
        }
        let costs = try withoutGradient { try contraction.perElement(of: frame) }.detached
        let meanCost = costs.mean().scalar
        let baseline = baselines[site.name] ?? 0
        baselines[site.name] = 0.9 * baseline + 0.1 * meanCost
        let axis = logQ.rank + plate.dim
        let others = (0..<logQ.rank).filter { $0 != axis }
        let rowLogQ = others.isEmpty ? logQ : logQ.sum(axes: others)
        return (rowLogQ.reshaped(to: [-1]) * (costs - baseline)).sum() * frame.scale
    }

    /// The data plate as this run declared it (with this minibatch's rows).
    func currentDataPlate(_ trace: Trace) -> PlateFrame? {
        trace.sites.lazy.compactMap(\.dataPlate).first
    }

    /// `term` where the model's `MaskHandler` keeps `site` and 0 where it masks it out: a
    /// drawn latent's masked entry is absent from the model, so its guide terms (`log q`, the KL)
    /// go with its `log p` and a masked row adds nothing (a mask made from a summed latent adds
    /// that latent's dimension). A summed latent's masked entry is uniform over its values
    /// instead; see `TraceHandler`.
    func droppingMaskedEntries(_ term: Tensor, of site: Site) -> Tensor {
        site.mask.map { select($0, term, Tensor(0)) } ?? term
    }

    func modelFactor(_ site: Site, _ logProb: Tensor) -> Factor {
        Factor(logProb, variables: site.enumeratedVariables, plates: site.plates, scale: site.userScale, site: site.name, location: site.location)
    }

    func summedVariable(_ site: Site) -> EnumeratedVariable {
        EnumeratedVariable(name: site.name, size: site.value.shape.first ?? 1, plates: site.plates, elimination: .sum, location: site.location)
    }

    func guideSite(_ name: String, in trace: Trace) throws -> (site: Site, q: any Distribution, logProb: Tensor) {
        guard let site = trace[name], let q = site.distribution, let logProb = site.logProb else {
            throw CompilerError.guideMismatch(site: name, reason: "the guide has no latent site of this name")
        }
        return (site, q, logProb)
    }
}

/// Draws the named sites without a path for gradients (`sample`, not `rsample`): a site the
/// score function estimates must not also pass a pathwise gradient.
final class DetachedDrawHandler: Handler {
    let sites: Set<String>

    init(sites: Set<String>) { self.sites = sites }

    func process(_ message: inout Message) {
        guard message.kind == .latent, message.value == nil, sites.contains(message.name),
              let distribution = message.distribution, let box = message.generator else { return }
        message.value = message.draw(distribution, from: box, reparameterized: false)
    }
}

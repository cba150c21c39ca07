import Distributions
import NN
import PPL
import TensorCore

/// Derives the guide q_phi(z|x) from a model's prototype trace (see `GuidePlan`).
///
/// The data plate is the one declared with `subsample:`. A latent site inside it is local: its
/// head is an encoder fed the row's data (standardized) and the upstream latents; a site
/// outside it is global: its head is a free output plus an affine map of the upstream global
/// latents (structured mean field). The family follows the support: finite discrete sites get
/// a categorical over their support, enumerated exactly (or, on a Markov chain or when asked,
/// no guide at all: they are summed out of the model); other discrete sites are sampled and
/// estimated by the score function; continuous sites get a normal on the unconstrained space
/// pushed through the constraint's bijector (full-covariance, or a point, when asked). The
/// estimator is the closed-form KL when the guide and prior pair has one and the prior does not
/// depend on a summed-out site, the reparameterized Monte Carlo term otherwise.
enum GuideCompiler {
    /// The finite-support sites the model sums out: those of a `markov` chain, and those the
    /// options mark `.marginalized`.
    static func summedOutSites(_ prototype: Trace, options: CompilerOptions) -> Set<String> {
        Set(prototype.latentSites.filter { site in
            guard site.distribution?.enumerateSupport() != nil else { return false }
            return options.estimators[site.name] == .marginalized || (options.estimators[site.name] == nil && site.markovStep != nil)
        }.map(\.name))
    }

    /// The plan. `dependents` names the sites whose prior depends on a summed-out site.
    static func plan(prototype: Trace, model: String, options: CompilerOptions, summedOut: Set<String>, dependents: Set<String>) throws -> GuidePlan {
        let latents = prototype.latentSites
        guard !latents.isEmpty else { throw CompilerError.noLatentSites(model: model) }
        let dataPlate = try findDataPlate(prototype)
        for name in options.estimators.keys.sorted() where prototype[name]?.kind != .latent {
            throw CompilerError.guideMismatch(site: name, reason: "the options force an estimator for it, but the model has no latent site of that name (its latent sites: \(latents.map(\.name).joined(separator: ", ")))")
        }
        for name in options.pointEstimates.sorted() where prototype[name]?.kind != .latent {
            throw CompilerError.guideMismatch(site: name, reason: "the options ask for a point estimate of it, but the model has no latent site of that name (its latent sites: \(latents.map(\.name).joined(separator: ", ")))")
        }
        var sites: [GuideSite] = []
        for site in latents {
            sites.append(try planSite(site, options: options, summedOut: summedOut, dependsOnSummedOut: dependents.contains(site.name), earlier: sites))
        }
        return GuidePlan(model: model, sites: sites, maximumBatchRank: prototype.maximumBatchRank, dataPlate: dataPlate)
    }

    /// The one plate declared with `subsample:`; every observed site must be inside it.
    static func findDataPlate(_ prototype: Trace) throws -> PlateFrame? {
        let frames = prototype.sites.compactMap(\.dataPlate)
        if let other = frames.first(where: { $0.name != frames[0].name }) {
            let site = prototype.sites.first { $0.dataPlate?.name == other.name }!
            throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "the model declares two data plates ('\(frames[0].name)' and '\(other.name)') with `subsample:`; a model has one")
        }
        if let outside = prototype.observedSites.first(where: { $0.dataPlate == nil }) {
            throw CompilerError.observedOutsideDataPlate(site: outside.name, location: outside.location)
        }
        return frames.first
    }

    static func planSite(_ site: Site, options: CompilerOptions, summedOut: Set<String>, dependsOnSummedOut: Bool, earlier: [GuideSite]) throws -> GuideSite {
        func refuse(_ reason: String) -> CompilerError { .unsupportedSite(site: site.name, location: site.location, reason: reason) }
        guard let prior = site.distribution else { throw refuse("it has no distribution") }
        let plate = site.dataPlate
        let valueBatch: [Int]
        if let plate {
            guard prior.batchShape.count == -plate.dim else {
                throw refuse("its batch shape \(prior.batchShape) has dimensions left of the data plate '\(plate.name)' (dimension \(plate.dim)); give the data plate the leftmost dimension with plate(..., dim: \(-prior.batchShape.count))")
            }
            valueBatch = Array(prior.batchShape.dropFirst())
        } else {
            if let subsampled = site.plates.first(where: { $0.subsampleSize != $0.size }) {
                throw refuse("it is global but inside plate '\(subsampled.name)', which subsamples \(subsampled.subsampleSize) of \(subsampled.size); only the data plate may subsample")
            }
            valueBatch = prior.batchShape
        }
        let shape = SiteShape(prior: prior, valueBatch: valueBatch, support: plate == nil ? prior.support : try oneRowSupport(prior, refuse: refuse))
        let forced = options.estimators[site.name]
        let partlyObserved = site.partialObservation != nil
        if partlyObserved, plate == nil || shape.supportValues == nil {
            throw refuse("it is observed in some rows only, which needs a site inside the data plate with a finite support (the guide enumerates the unobserved rows)")
        }
        if summedOut.contains(site.name) {
            return GuideSite(name: site.name, location: site.location, plate: plate, plates: site.plates, inputs: [], guideFamily: nil, estimator: .marginalized, parameterCount: 0, shape: shape, hiddenSizes: [], isPartlyObserved: partlyObserved)
        }
        let family = try chooseFamily(site, shape, options: options, refuse: refuse)
        let estimator = try chooseEstimator(family, shape, forced: forced, dependsOnSummedOut: dependsOnSummedOut, refuse: refuse)
        if partlyObserved, estimator != .enumerated {
            throw refuse("it is observed in some rows only, so it must be enumerated (or summed out), not estimated by \(estimator)")
        }
        if options.heads[site.name] != nil, plate == nil {
            throw refuse("it is global, so it has no encoder for a custom head to replace")
        }
        let inputs = chooseInputs(isLocal: plate != nil, estimator: estimator, earlier: earlier)
        let hidden = options.heads[site.name].map { Array($0.sizes.dropFirst().dropLast()) } ?? (plate == nil ? [] : options.hiddenSizes)
        return GuideSite(name: site.name, location: site.location, plate: plate, plates: site.plates, inputs: inputs, guideFamily: family, estimator: estimator, parameterCount: 0, shape: shape, hiddenSizes: hidden, isPartlyObserved: partlyObserved)
    }

    /// A local site's support with its bounds cut to one row, so that the guide's bijector
    /// serves minibatches of any size (a plate broadcasts the bounds to the prototype's rows).
    /// Bounds that differ between rows (made from the data) would need a bijector per row,
    /// which the guide, run before the model, cannot know: they are refused.
    static func oneRowSupport(_ prior: any Distribution, refuse: (String) -> CompilerError) throws -> Constraint {
        let rank = prior.batchShape.count + prior.eventShape.count
        func oneRow(_ bound: Tensor) throws -> Tensor {
            guard bound.rank == rank, let rows = bound.shape.first, rows >= 1 else { return bound }
            let values = bound.scalars
            let perRow = values.count / rows
            if (1..<rows).contains(where: { values[($0 * perRow)..<(($0 + 1) * perRow)] != values[0..<perRow] }) {
                throw refuse("the bounds of its support differ from row to row, and " + fixedBoundsAdvice)
            }
            return bound.slice(axis: 0, 0..<1).reshaped(to: Array(bound.shape.dropFirst()))
        }
        return try prior.support.mappingBounds(oneRow)
    }

    static func chooseFamily(_ site: Site, _ shape: SiteShape, options: CompilerOptions, refuse: (String) -> CompilerError) throws -> any GuideFamily {
        let prior = shape.prior
        if options.pointEstimates.contains(site.name), shape.supportValues != nil || shape.support.isDiscrete {
            throw refuse("a point estimate is asked for it, but its support \(shape.support) is discrete; a point estimate is for a continuous site (a discrete one is summed over its support or drawn)")
        }
        if let values = shape.supportValues {
            return CategoricalGuide(prior: prior, count: values.shape[0])
        }
        let support = shape.support
        switch support {
        case .boolean: return BernoulliGuide()
        case .nonnegativeInteger: return PoissonGuide()
        default: break
        }
        if support.isDiscrete {
            throw refuse("its support \(support) is discrete but neither finite nor the counts; write the guide by hand")
        }
        guard support.bijector != nil else { throw refuse("its support \(support) has no bijector from the real numbers") }
        if options.pointEstimates.contains(site.name) { return PointGuide(support: support) }
        if options.fullCovariance, shape.unconstrainedEvent.count == 1 { return MultivariateNormalGuide(support: support) }
        return NormalGuide(support: support)
    }

    static func chooseEstimator(_ family: any GuideFamily, _ shape: SiteShape, forced: Estimator?, dependsOnSummedOut: Bool, refuse: (String) -> CompilerError) throws -> Estimator {
        let candidate = family.distribution(family.initialOutput(shape), leading: [], site: shape)
        let closedForm = hasClosedFormKL(candidate, shape.prior) && !dependsOnSummedOut
        let sampled: Estimator = candidate.hasReparameterizedSample ? .reparameterized : .scoreFunction
        let natural: Estimator = family is CategoricalGuide ? .enumerated : sampled
        guard let forced else { return natural == .reparameterized && closedForm && !(family is PointGuide) ? .analyticKL : natural }
        switch forced {
        case .marginalized, .enumerated:
            guard family is CategoricalGuide else { throw refuse("it cannot be \(forced): its support \(shape.prior.support) is not finite") }
        case .analyticKL where family is PointGuide:
            throw refuse("no closed-form KL divergence is known between its guide \(type(of: candidate)) and its prior \(type(of: shape.prior))")
        case .analyticKL, .reparameterized:
            if let reason = drawRefusal(forced, guide: candidate, prior: shape.prior, dependsOnSummedOut: dependsOnSummedOut) { throw refuse(reason) }
        case .scoreFunction:
            guard !candidate.hasReparameterizedSample else { throw refuse("it is continuous and reparameterized; the score function is for discrete sites") }
        }
        return forced
    }

    /// Why `estimator`, forced on a site, does not fit its guide `q` and prior `p`, or nil:
    /// a reparameterized draw needs a reparameterized sampler, and so does the analytic KL (the
    /// rest of the ELBO reaches the guide only through the draw), which also needs a closed
    /// form and a prior that no summed-out site moves. Other estimators get nil.
    static func drawRefusal(_ estimator: Estimator, guide q: any Distribution, prior p: any Distribution, dependsOnSummedOut: Bool) -> String? {
        guard estimator == .reparameterized || estimator == .analyticKL else { return nil }
        guard q.hasReparameterizedSample else {
            let closedForm = estimator == .analyticKL ? ", and with the KL in closed form the rest of the ELBO reaches the guide only through a reparameterized draw" : ""
            return "its guide \(type(of: q)) has no reparameterized sampler\(closedForm); use enumeration or the score function"
        }
        guard estimator == .analyticKL else { return nil }
        if dependsOnSummedOut { return "its prior depends on a site summed out of the model, so -KL is not a term of the ELBO; use the reparameterized estimator" }
        return hasClosedFormKL(q, p) ? nil : "no closed-form KL divergence is known between its guide \(type(of: q)) and its prior \(type(of: p))"
    }

    /// A local head is fed the data and the earlier guided latents (local ones per row, global
    /// ones up to `upstreamGlobalLimit` numbers); a global head the earlier global latents. A
    /// score-function head is not fed enumerated values; no head is fed a point estimate.
    static func chooseInputs(isLocal: Bool, estimator: Estimator, earlier: [GuideSite]) -> [String] {
        var inputs = isLocal ? ["data"] : []
        var globalNumbers = 0
        for upstream in earlier where upstream.isGuided && upstream.guideFamily!.feedsDownstreamHeads {
            if estimator == .scoreFunction, upstream.estimator == .enumerated { continue }
            if upstream.plate != nil {
                if isLocal { inputs.append(upstream.name) }
                continue
            }
            let numbers = upstream.guideFamily!.featureCount(upstream.shape) * upstream.shape.valueBatch.reduce(1, *)
            guard globalNumbers + numbers <= CompilerOptions.upstreamGlobalLimit else { continue }
            globalNumbers += numbers
            inputs.append(upstream.name)
        }
        return inputs
    }
}

import Distributions
import NN
import PPL
import TensorCore

/// Derives the guide q_phi(z|x) from a model's prototype trace (see `GuidePlan`).
///
/// For each latent site: a site inside the data plate (the plate whose subsample holds the
/// minibatch's rows) gets an encoder fed the minibatch (and the continuous latents sampled
/// before it); a site outside it gets mean-field parameters. The family follows the support:
/// finite discrete sites get categorical or Bernoulli heads (summed exactly), real and
/// constrained continuous sites a normal on the unconstrained space pushed through the
/// constraint's bijector. The estimator is the closed-form KL when the guide and prior pair has
/// one, exact enumeration for finite supports, the score function for other discrete sites, and
/// the reparameterized Monte Carlo term otherwise.
enum GuideCompiler {
    static func plan(prototype: Trace, model: String, rows: Int, options: CompilerOptions) throws -> GuidePlan {
        let latents = prototype.latentSites
        guard !latents.isEmpty else { throw CompilerError.noLatentSites(model: model) }
        var sites: [GuideSite] = []
        for site in latents {
            sites.append(try planSite(site, rows: rows, options: options, earlier: sites))
        }
        return GuidePlan(model: model, sites: sites, maximumBatchRank: prototype.maximumBatchRank)
    }

    static func planSite(_ site: Site, rows: Int, options: CompilerOptions, earlier: [GuideSite]) throws -> GuideSite {
        guard let prior = site.distribution else { throw CompilerError.unsupportedSite(site: site.name, reason: "no distribution") }
        let plate = site.plates.first { $0.subsampleSize == rows && $0.dim == -prior.batchShape.count }
        if site.plates.contains(where: { $0.subsampleSize == rows }), plate == nil {
            throw CompilerError.unsupportedSite(site: site.name, reason: "the data plate must be the site's leftmost batch dimension (batch shape \(prior.batchShape))")
        }
        let valueShape = plate == nil ? site.value.shape : Array(site.value.shape.dropFirst())
        let support = prior.support
        var unconstrainedShape = valueShape
        if case .simplex = support { unconstrainedShape[unconstrainedShape.count - 1] -= 1 }
        let family = try chooseFamily(site, prior, isGlobal: plate == nil, options: options)
        let estimator = options.estimators[site.name] ?? chooseEstimator(family, prior)
        let bijectorName: String
        switch family {
        case .categorical, .bernoulli, .poisson: bijectorName = "none"
        default: bijectorName = describe(support.bijector)
        }
        let hidden = options.heads[site.name].map { Array($0.sizes.dropFirst().dropLast()) } ?? options.hiddenSizes
        let upstream = earlier.filter { $0.plate != nil && $0.estimator != .enumerated }
        let input: String
        if plate == nil {
            input = "none (mean-field parameters)"
        } else if options.sharedTrunk || upstream.isEmpty {
            input = "data"
        } else {
            input = "data + " + upstream.map(\.name).joined(separator: " + ")
        }
        var guideSite = GuideSite(
            name: site.name, plate: plate, input: input, family: family, bijectorName: bijectorName, estimator: estimator,
            parameterCount: 0, support: support, valueShape: valueShape, unconstrainedShape: unconstrainedShape,
            eventRank: prior.eventShape.count, hiddenSizes: hidden)
        guideSite.parameterCount = plate == nil ? globalParameterCount(guideSite) : 0
        return guideSite
    }

    static func chooseFamily(_ site: Site, _ prior: any Distribution, isGlobal: Bool, options: CompilerOptions) throws -> GuideFamily {
        if prior.enumerateSupport() != nil {
            if let categorical = prior as? Categorical { return .categorical(count: categorical.categoryCount) }
            if prior is Bernoulli { return .bernoulli }
            throw CompilerError.unsupportedSite(site: site.name, reason: "finite support of \(type(of: prior)) has no guide head; write the guide by hand")
        }
        if prior.support.isDiscrete { return .poisson }
        if options.pointEstimates.contains(site.name) { return .delta }
        if options.fullCovariance, case .real = prior.support, prior.eventShape.count == 1 { return .multivariateNormal }
        guard prior.support.bijector != nil else {
            throw CompilerError.unsupportedSite(site: site.name, reason: "support \(prior.support) has no bijector")
        }
        return .normal
    }

    static func chooseEstimator(_ family: GuideFamily, _ prior: any Distribution) -> Estimator {
        switch family {
        case .categorical, .bernoulli: return .enumerated
        case .poisson: return .scoreFunction
        case .delta, .handWritten: return .reparameterized
        case .normal, .multivariateNormal:
            guard case .real = prior.support else { return .reparameterized }
            let shape = prior.batchShape + prior.eventShape
            let candidate: any Distribution = family == .multivariateNormal
                ? MultivariateNormal(loc: Tensor.zeros(shape), scaleDiagonal: Tensor.ones(shape))
                : normalGuide(loc: Tensor.zeros(shape), scale: Tensor.ones(shape), eventRank: prior.eventShape.count)
            return hasClosedFormKL(candidate, prior) ? .analyticKL : .reparameterized
        }
    }

    /// `Normal(loc, scale)` with the last `eventRank` axes as its event.
    static func normalGuide(loc: Tensor, scale: Tensor, eventRank: Int) -> any Distribution {
        let base = Normal(loc, scale)
        return eventRank == 0 ? base : base.independent(eventRank)
    }

    static func globalParameterCount(_ site: GuideSite) -> Int {
        let count = site.unconstrainedShape.reduce(1, *)
        return site.family == .delta ? count : 2 * count
    }

    static func describe(_ bijector: (any Bijector)?) -> String {
        switch bijector {
        case is IdentityBijector: return "identity"
        case is ExpBijector: return "exp"
        case is SigmoidBijector: return "sigmoid"
        case is StickBreakingBijector: return "stick-breaking"
        case is LowerCholeskyBijector: return "lower Cholesky"
        case let composed as ComposedBijector: return composed.parts.map { describe($0) }.joined(separator: " then ")
        case is AffineBijector: return "affine"
        default: return "none"
        }
    }
}

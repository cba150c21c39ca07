import Distributions
import PPL
import TensorCore

/// The plan of a guide the user wrote: each model latent site with the guide's distribution at
/// it and the estimator that distribution allows. A finite-support model site the guide leaves
/// out is summed out of the model (as Pyro's TraceEnum_ELBO does); a continuous one is an error.
enum HandWrittenGuide {
    static func plan(guideTrace: Trace, prototype: Trace, model: String, forced: [String: Estimator], dependents: Set<String>) throws -> GuidePlan {
        let dataPlate = try GuideCompiler.findDataPlate(prototype)
        var sites: [GuideSite] = []
        for site in prototype.latentSites {
            guard let p = site.distribution else { continue }
            let shape = SiteShape(prior: p, valueBatch: site.dataPlate == nil ? p.batchShape : Array(p.batchShape.dropFirst()))
            guard let guideSite = guideTrace[site.name], guideSite.kind == .latent, let q = guideSite.distribution else {
                guard p.enumerateSupport() != nil else {
                    throw CompilerError.guideMismatch(site: site.name, reason: "the hand-written guide has no latent site of this name, and it is continuous, so it cannot be summed out of the model")
                }
                sites.append(GuideSite(name: site.name, location: site.location, plate: site.dataPlate, plates: site.plates, inputs: [], guideFamily: nil, estimator: .marginalized, parameterCount: 0, shape: shape, hiddenSizes: [], isPartlyObserved: site.partialObservation != nil))
                continue
            }
            let estimator: Estimator
            if let chosen = forced[site.name] {
                if let reason = refusal(of: chosen, q: q, p: p, dependsOnSummedOut: dependents.contains(site.name)) {
                    throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: reason)
                }
                estimator = chosen
            } else if q.enumerateSupport() != nil {
                estimator = .enumerated
            } else if !q.hasReparameterizedSample {
                estimator = .scoreFunction
            } else {
                estimator = hasClosedFormKL(q, p) && !dependents.contains(site.name) ? .analyticKL : .reparameterized
            }
            sites.append(GuideSite(
                name: site.name, location: site.location, plate: site.dataPlate, plates: site.plates, inputs: ["hand-written"],
                guideFamily: HandWrittenFamily(distribution: String(describing: type(of: q))), estimator: estimator, parameterCount: 0, shape: shape, hiddenSizes: [], isPartlyObserved: site.partialObservation != nil))
        }
        if let extra = guideTrace.latentSites.first(where: { prototype[$0.name]?.kind != .latent }) {
            throw CompilerError.guideMismatch(site: extra.name, reason: "the hand-written guide samples it, but the model has no latent site of this name")
        }
        return GuidePlan(model: model, sites: sites, maximumBatchRank: prototype.maximumBatchRank, dataPlate: dataPlate)
    }

    /// Why the options may not force `estimator` on a site whose hand-written guide is `q` and
    /// prior `p`, or nil when they may.
    static func refusal(of estimator: Estimator, q: any Distribution, p: any Distribution, dependsOnSummedOut: Bool) -> String? {
        switch estimator {
        case .marginalized:
            return "the options ask to sum it out of the model, but the hand-written guide samples it; leave it out of the guide to have it summed out"
        case .enumerated:
            return q.enumerateSupport() == nil ? "it cannot be enumerated: its guide \(type(of: q)) has no finite support" : nil
        case .reparameterized, .analyticKL, .scoreFunction:
            return GuideCompiler.drawRefusal(estimator, guide: q, prior: p, dependsOnSummedOut: dependsOnSummedOut)
        }
    }
}

/// The family of a site a hand-written guide samples: only its name is known.
struct HandWrittenFamily: GuideFamily {
    let distribution: String

    var description: String { distribution }
    var bijectorName: String { "-" }
    func outputCount(_ site: SiteShape) -> Int { 0 }
    func initialOutput(_ site: SiteShape) -> Tensor { Tensor.zeros([0]) }
    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution { Delta(raw) }
}

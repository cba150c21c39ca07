import Distributions
import PPL
import TensorCore

/// The plan of a guide the user wrote: each of its latent sites, the estimator its
/// distribution allows, matched against the model's latent sites.
enum HandWrittenGuide {
    static func plan(guideTrace: Trace, prototype: Trace, model: String, rows: Int, forced: [String: Estimator]) throws -> GuidePlan {
        var sites: [GuideSite] = []
        for site in prototype.latentSites {
            guard let guideSite = guideTrace[site.name], let q = guideSite.distribution, let p = site.distribution else {
                throw CompilerError.unsupportedSite(site: site.name, reason: "the hand-written guide has no latent site of this name")
            }
            let estimator: Estimator
            if let chosen = forced[site.name] {
                estimator = chosen
            } else if q.enumerateSupport() != nil {
                estimator = .enumerated
            } else if !q.hasReparameterizedSample {
                estimator = .scoreFunction
            } else {
                estimator = hasClosedFormKL(q, p) ? .analyticKL : .reparameterized
            }
            let plate = guideSite.plates.first { $0.subsampleSize == rows }
            sites.append(GuideSite(
                name: site.name, plate: plate, input: "hand-written", family: .handWritten(String(describing: type(of: q))), bijectorName: "-",
                estimator: estimator, parameterCount: 0, support: p.support, valueShape: site.value.shape,
                unconstrainedShape: site.value.shape, eventRank: p.eventShape.count, hiddenSizes: []))
        }
        return GuidePlan(model: model, sites: sites, maximumBatchRank: prototype.maximumBatchRank)
    }
}

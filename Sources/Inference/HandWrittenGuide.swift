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
                    throw CompilerError.guideMismatch(site: site.name, reason: "the hand-written guide has no latent site of this name, and it is continuous, so it cannot be summed out of the model (the model's site is at \(site.location))")
                }
                sites.append(GuideSite(name: site.name, location: site.location, plate: site.dataPlate, plates: site.plates, inputs: [], guideFamily: nil, estimator: .marginalized, parameterCount: 0, shape: shape, hiddenSizes: [], isPartlyObserved: site.partialObservation != nil))
                continue
            }
            if let reason = mismatch(guideSite, q: q, modelSite: site, p: p) {
                throw CompilerError.guideMismatch(site: site.name, reason: reason + " (the model's site is at \(site.location), the guide's at \(guideSite.location))")
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
            throw CompilerError.guideMismatch(site: extra.name, reason: "the hand-written guide samples it at \(extra.location), but the model has no latent site of this name")
        }
        return GuidePlan(model: model, sites: sites, maximumBatchRank: prototype.maximumBatchRank, dataPlate: dataPlate)
    }

    /// Why the guide's site cannot stand for the model's, or nil when it can: its draws must lie
    /// in the model's support (a density on the same kind of set, so that p/q is a ratio of
    /// densities or of probabilities), its plates must be the model's, and its value must have
    /// the model's shape.
    static func mismatch(_ guideSite: Site, q: any Distribution, modelSite: Site, p: any Distribution) -> String? {
        // A point estimate's support is its value, checked below; listed values (a
        // FiniteDiscrete's) are checked themselves.
        let outside = q.enumerateSupport().map { p.support.firstViolation(in: $0) != nil } ?? !p.support.contains(q.support)
        if !(q is Delta), q.hasDiscreteValues != p.hasDiscreteValues || outside {
            let kind = { (d: any Distribution) in d.hasDiscreteValues ? "discrete" : "continuous" }
            return "the hand-written guide's \(type(of: q)) (\(kind(q)), support \(q.support)) cannot propose the values of the model's \(type(of: p)) (\(kind(p)), support \(p.support)): p(z) / q(z) would weigh values the model does not have, or compare a probability with a density; give the guide a distribution on the model's support (a bijector such as exp or sigmoid maps a Normal onto a half-line or an interval; a bijector of your own states where it maps in codomain(of:))"
        }
        if let bad = p.support.firstViolation(in: guideSite.value) {
            return "the hand-written guide drew \(guideSite.value.uncountedScalars[bad]), outside the model's support (\(p.support)); constrain the guide's parameters to it"
        }
        if let reason = plateMismatch(guideSite.plates, model: modelSite.plates) { return reason }
        let leadingOnesDropped = { (shape: [Int]) in Array(shape.drop { $0 == 1 }) }
        let sameShape = modelSite.plates.isEmpty ? leadingOnesDropped(guideSite.value.shape) == leadingOnesDropped(modelSite.value.shape) : guideSite.value.shape == modelSite.value.shape
        if !sameShape {
            let rows = modelSite.dataPlate == nil ? "" : " (one per row)"
            return "the model's site has a value of shape \(Shape.describe(modelSite.value.shape))\(rows), but the hand-written guide's has shape \(Shape.describe(guideSite.value.shape)); the model would go on with the guide's value, broadcast against its own terms, and count log q once for what the model counts several times (or the reverse); give the guide's distribution the model's shape"
        }
        return nil
    }

    /// Why a guide's site in `guide` plates cannot stand for a model's in `model` plates, or nil:
    /// each of the guide's plates must be one of the model's (name, size, minibatch and
    /// dimension), and the guide may leave out only a plate that is neither the data plate nor
    /// subsampled. Otherwise its log q is summed over other axes, or scaled by another N/M.
    static func plateMismatch(_ guide: [PlateFrame], model: [PlateFrame]) -> String? {
        let describe = { (plate: PlateFrame) in
            "'\(plate.name)' (size \(plate.size)\(plate.subsampleSize == plate.size ? "" : ", minibatches of \(plate.subsampleSize)"), dim \(plate.dim)\(plate.isDataPlate ? ", the data plate" : ""))"
        }
        let list = { (plates: [PlateFrame]) in plates.isEmpty ? "no plate" : plates.map(describe).joined(separator: ", ") }
        let advice = "declare the guide's plates as the model declares them around this site (the data plate with subsample:, the same dim:)"
        // The data plate's mark steers the compiler's encoders, not a number of the ELBO.
        let matches = { (a: PlateFrame, b: PlateFrame) in (a.name, a.size, a.subsampleSize, a.dim) == (b.name, b.size, b.subsampleSize, b.dim) }
        if let stray = guide.first(where: { plate in !model.contains { matches(plate, $0) } }) {
            return "the hand-written guide draws it in plate \(describe(stray)), which is not one of the model's plates around it (\(list(model))); \(advice)"
        }
        if let missing = model.first(where: { plate in (plate.isDataPlate || plate.subsampleSize != plate.size) && !guide.contains { matches(plate, $0) } }) {
            return "the model draws it in plate \(describe(missing)), but the hand-written guide does not (its plates: \(list(guide))), so log q would not be \(missing.isDataPlate ? "split by row or " : "")scaled as log p is; \(advice)"
        }
        return nil
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

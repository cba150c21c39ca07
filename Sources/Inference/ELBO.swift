import Distributions
import PPL
import TensorCore

/// The evidence lower bound of one minibatch, estimated site by site as the plan says.
///
/// `ELBO = sum over observed sites of E_q[log p(x | z)] + sum over latent sites of the site's
/// term`: `-beta KL(q || p)` in closed form, or `beta E_q[log p(z) - log q(z)]` by
/// reparameterized samples, by exact enumeration (weighted by q), or by the score function.
/// Every term carries its site's scale (N/M inside a subsampled plate).
struct ELBOEstimate {
    /// The estimate, differentiable (with the score-function surrogate added when needed).
    let objective: Tensor
    /// The estimate itself, for reporting.
    let value: Float
    /// The model and guide traces of the (last) particle, for diagnostics.
    let modelTrace: Trace
    let guideTrace: Trace
}

/// Runs the guide and the model once and forms the ELBO of their traces.
struct ELBOComputation {
    let model: Model<Tensor, Int>
    let guide: Model<Tensor, Int>
    let plan: GuidePlan
    let parameters: ParameterStore
    let generator: GeneratorBox

    /// The guide's trace (enumerated when any site is) and the model's trace replaying it.
    func traces(_ x: Tensor, datasetSize: Int) throws -> (guide: Trace, model: Trace) {
        let guideRecorder = TraceHandler()
        var guideHandlers: [any Handler] = [guideRecorder, parameters, SeedHandler(generator)]
        if plan.sites.contains(where: { $0.estimator == .enumerated }) {
            guideHandlers.append(EnumerateHandler(firstDim: -plan.maximumBatchRank - 1))
        }
        try guide.run(x, datasetSize, handlers: guideHandlers)
        let modelRecorder = TraceHandler()
        try model.run(x, datasetSize, handlers: [modelRecorder, parameters, ReplayHandler(guideRecorder.trace), SeedHandler(generator)])
        return (guideRecorder.trace, modelRecorder.trace)
    }

    /// One-particle ELBO with KL weight `beta`; `baselines` holds the score-function baselines.
    func estimate(_ x: Tensor, datasetSize: Int, beta: Float, baselines: inout [String: Float]) throws -> ELBOEstimate {
        let (guideTrace, modelTrace) = try traces(x, datasetSize: datasetSize)
        let weights = guideTrace.sites.filter { $0.enumerationDim != nil }.map { site in
            (dim: site.enumerationDim!, probability: exp(site.logProb!))
        }
        func expectation(_ term: Tensor) -> Tensor {
            var weighted = term
            for weight in weights where term.rank >= -weight.dim && term.shape[term.rank + weight.dim] > 1 {
                weighted = weighted * weight.probability
            }
            return weighted.sum()
        }
        var total = Tensor(0)
        var scoreSites: [(String, Tensor)] = []
        for site in modelTrace.sites {
            guard let logProb = site.logProb else { continue }
            if site.kind == .observed {
                total = total + expectation(logProb * site.scale)
                continue
            }
            guard let entry = plan[site.name], let guideSite = guideTrace[site.name],
                  let q = guideSite.distribution, let p = site.distribution, let guideLogProb = guideSite.logProb else {
                throw CompilerError.unsupportedSite(site: site.name, reason: "the guide has no site of this name")
            }
            switch entry.estimator {
            case .analyticKL:
                total = total - beta * site.scale * (try klDivergence(q, p)).sum()
            case .reparameterized, .enumerated:
                total = total + beta * expectation((logProb - guideLogProb) * site.scale)
            case .scoreFunction:
                total = total + beta * expectation((logProb - guideLogProb) * site.scale)
                scoreSites.append((site.name, guideLogProb))
            }
        }
        let value = total.scalar
        var objective = total
        for (name, guideLogProb) in scoreSites {
            let baseline = baselines[name] ?? value
            objective = objective + guideLogProb.sum() * (value - baseline)
            baselines[name] = 0.9 * baseline + 0.1 * value
        }
        return ELBOEstimate(objective: objective, value: value, modelTrace: modelTrace, guideTrace: guideTrace)
    }

    /// Per-datapoint log importance weights `log p(x_n, z_n) - log q(z_n | x_n)` for one draw
    /// of every local latent: shape `[rows]`. Needs every latent site local to the data plate.
    func logWeights(_ x: Tensor, datasetSize: Int) throws -> Tensor {
        if let global = plan.sites.first(where: { $0.plate == nil }) {
            throw CompilerError.unsupportedSite(site: global.name, reason: "importance weighting per datapoint needs every latent site inside the data plate")
        }
        if let discrete = plan.sites.first(where: { $0.estimator == .enumerated }) {
            throw CompilerError.unsupportedSite(site: discrete.name, reason: "it is summed exactly; use the exact marginal likelihood instead of importance sampling")
        }
        let (guideTrace, modelTrace) = try traces(x, datasetSize: datasetSize)
        let rows = x.shape.first ?? 0
        var total = Tensor.zeros([rows])
        for site in modelTrace.sites {
            guard let logProb = site.logProb, logProb.rank >= 1, logProb.shape.last == rows || logProb.rank == 1 else { continue }
            total = total + logProb.reshaped(to: [-1, rows]).sum(axis: 0)
            if site.kind == .latent, let guideLogProb = guideTrace[site.name]?.logProb {
                total = total - guideLogProb.reshaped(to: [-1, rows]).sum(axis: 0)
            }
        }
        return total
    }
}

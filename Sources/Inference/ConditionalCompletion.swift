import Distributions
import Foundation
import PPL
import TensorCore

/// What a trained model says about the missing entries of rows given the observed ones, by
/// self-normalized importance sampling with the guide as proposal (Mattei & Frellsen, 2018):
/// `w_k = p(z_k) p(x_obs | z_k) / q(z_k | x~)`, so that the model is conditioned on the observed
/// entries only, and the estimates tend to the true conditional as the proposals grow.
public struct ConditionalCompletion {
    /// `E[x | x_obs]`: the observed entries as given, the missing ones their conditional mean;
    /// shape `[rows, entries]`.
    public let mean: Tensor
    /// Completions drawn from the conditional: the decoder's mean at a `z` resampled by the
    /// weights, the observed entries kept; shape `[draws, rows, entries]`.
    public let completions: Tensor
    /// `log p(x_mis | x_obs)` of the rows' own missing entries, per row.
    public let missingLogLikelihood: Tensor
    /// `1 / sum_k w_k^2` of the normalized weights, per row: how many proposals count.
    public let effectiveSampleSize: Tensor
}

/// One draw `z ~ q(z | input)` of the guide and what the model makes of it, row by row.
public struct ImportanceProposal {
    /// `log p(z) - log q(z | input)` of each row.
    public let logPriorOverProposal: Tensor
    /// The observed site's distribution given `z`.
    public let observed: any Distribution
}

extension Amortized where Input == Tensor {
    /// `proposals` draws of the guide fed `proposalInput`, each with the model run at it on
    /// `rows`: the parts of importance weights `p(z) p(x | z) / q(z | input)` that do not
    /// depend on how `x` is observed (masked entries, noisy entries). The model needs one
    /// observed site and local latents only, all drawn.
    public func importanceProposals(_ rows: Tensor, proposalInput: Tensor, proposals: Int, seed: UInt64 = 0) throws -> [ImportanceProposal] {
        guard proposals >= 1 else { throw TrainingError.badOptions(reason: "importance sampling needs at least 1 proposal, got \(proposals)") }
        guard rows.rank == 2, proposalInput.shape == rows.shape else {
            throw TrainingError.badOptions(reason: "rows \(rows.shape) and the proposal's input \(proposalInput.shape) must be one shape [rows, entries]")
        }
        let count = rows.shape[0]
        if plan == nil { try compile(example: proposalInput, datasetSize: count) }
        guard let plan else { throw TrainingError.notCompiled }
        for site in plan.sites {
            if site.plate?.isDataPlate != true {
                throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "it is global; conditioning rows one by one needs local latents only")
            }
            if site.isPartlyObserved {
                throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "it is observed in some rows; conditioning on some entries of one observed site needs every other site latent in every row")
            }
        }
        let computation = try computation(generator: evaluationGenerator(9, seed: seed))
        try computation.requireEveryLatentDrawn(for: "importance sampling")
        return try withoutGradient {
            try (0..<proposals).map { proposal in
                let (guide, model) = try checkingTensorErrors { try computation.traces(rows, guideInput: proposalInput, datasetSize: count) }
                if proposal == 0 { try computation.requireDensities(guide) }
                guard model.observedSites.count == 1, let site = model.observedSites.first, let distribution = site.distribution, let plate = site.dataPlate else {
                    throw CompilerError.unsupportedSite(site: model.observedSites.first?.name ?? "x", location: model.observedSites.first?.location ?? SourceLocation(file: "", line: 0),
                                                        reason: "conditioning needs exactly one observed site inside the data plate")
                }
                var logWeight = Tensor.zeros([count])
                for latent in plan.sites {
                    guard let site = model[latent.name], let prior = site.logProb, let proposal = guide[latent.name]?.logProb else { continue }
                    logWeight = logWeight + computation.perRow(prior, plate: plate) - computation.perRow(computation.droppingMaskedEntries(proposal, of: site), plate: plate)
                }
                return ImportanceProposal(logPriorOverProposal: logWeight, observed: distribution)
            }
        }
    }

    /// The conditional of the entries of `rows` where `observed` is 0 given those where it is 1,
    /// from `proposals` draws of the guide fed `proposalInput` (the rows with the missing
    /// entries filled by a first guess). `rows` holds the truth at the missing entries too: it
    /// is used only to score `missingLogLikelihood`. The model's observed site must make a row's
    /// entries independent given the latents (an `Independent` over the row).
    public func conditionalCompletion(_ rows: Tensor, observed: Tensor, proposalInput: Tensor, proposals: Int = 1000, draws: Int = 3, seed: UInt64 = 0) throws -> ConditionalCompletion {
        guard draws >= 1 else { throw TrainingError.badOptions(reason: "conditional completion needs at least 1 draw, got \(draws)") }
        guard observed.shape == rows.shape else { throw TrainingError.badOptions(reason: "the observed mask \(observed.shape) must have the rows' shape \(rows.shape)") }
        let count = rows.shape[0]
        var logWeights: [Tensor] = [], means: [Tensor] = [], missing: [Tensor] = []
        for proposal in try importanceProposals(rows, proposalInput: proposalInput, proposals: proposals, seed: seed) {
            let entries = try withoutGradient { try checkingTensorErrors { proposal.observed.elementwiseLogProb(rows).reshaped(to: [count, -1]) } }
            guard entries.shape == rows.shape else {
                throw TrainingError.badOptions(reason: "the observed site gives \(entries.shape) log-probabilities for rows of shape \(rows.shape); its entries must be independent (an Independent over the row)")
            }
            logWeights.append(proposal.logPriorOverProposal + (entries * observed).sum(axis: 1))
            missing.append((entries * (1 - observed)).sum(axis: 1))
            means.append(proposal.observed.mean.reshaped(to: [count, -1]))
        }
        let stackedWeights = Tensor.stack(logWeights), stackedMeans = Tensor.stack(means)
        let normalizer = stackedWeights.logSumExp(axis: 0)
        let weights = exp(stackedWeights - normalizer)
        let mean = select(observed, rows, (weights.unsqueezed(axis: -1) * stackedMeans).sum(axis: 0))
        var generator = RandomGenerator(seed: seed &+ 0xC0)
        let flatMeans = stackedMeans.reshaped(to: [proposals * count, -1])
        let rowIndex = Tensor((0..<count).map(Float.init))
        let completions = (0..<draws).map { _ in
            let chosen = Tensor.randomCategorical(probabilities: weights.transposed(), using: &generator)
            return select(observed, rows, flatMeans[chosen * Float(count) + rowIndex])
        }
        return ConditionalCompletion(
            mean: mean, completions: Tensor.stack(completions),
            missingLogLikelihood: (stackedWeights + Tensor.stack(missing)).logSumExp(axis: 0) - normalizer,
            effectiveSampleSize: 1 / (weights * weights).sum(axis: 0))
    }
}

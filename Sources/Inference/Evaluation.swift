import Distributions
import Foundation
import Optim
import PPL
import TensorCore

/// The learned posterior of a finite-support site beside the exact one, per point and averaged.
public struct PosteriorComparison {
    /// `KL(q || p)` per point, nats.
    public let klDivergence: [Float]
    /// Total variation `sum |q - p| / 2` per point.
    public let totalVariation: [Float]
    /// Whether q and the exact posterior pick the same most probable value, per point (for
    /// every element of it, for a site with several elements a row, as in a plate inside the
    /// data plate).
    public let argmaxAgrees: [Bool]
    /// Exact `log p(x_n)` per point.
    public let logLikelihood: [Float]
    /// ELBO per point under the guide.
    public let elbo: [Float]

    public var meanKL: Float { klDivergence.reduce(0, +) / Float(Swift.max(klDivergence.count, 1)) }
    public var meanTotalVariation: Float { totalVariation.reduce(0, +) / Float(Swift.max(totalVariation.count, 1)) }
    public var argmaxAgreement: Float { Float(argmaxAgrees.filter { $0 }.count) / Float(Swift.max(argmaxAgrees.count, 1)) }
    public var meanLogLikelihood: Float { logLikelihood.reduce(0, +) / Float(Swift.max(logLikelihood.count, 1)) }
    public var meanELBO: Float { elbo.reduce(0, +) / Float(Swift.max(elbo.count, 1)) }
}

/// Cremer et al. (2018): how far the encoder's q falls short, split into what a better q of the
/// same family would recover (amortization gap) and what the family cannot (approximation gap).
public struct AmortizationGap {
    /// ELBO per point with the encoder's q.
    public let amortizedELBO: Float
    /// ELBO per point with q refined per point by SVI, started from the encoder's output.
    public let refinedELBO: Float
    /// `log p(x)` per point (exact, or importance-sampled).
    public let logLikelihood: Float

    /// `refinedELBO - amortizedELBO`.
    public var amortizationGap: Float { refinedELBO - amortizedELBO }
    /// `logLikelihood - refinedELBO`.
    public var approximationGap: Float { logLikelihood - refinedELBO }
}

extension Amortized {
    /// `log p(x_n)` for each row, estimated by importance sampling with the guide as proposal:
    /// `log (1/k) sum_i p(x_n, z_i) / q(z_i | x_n)`, the sites the guide enumerates summed out
    /// exactly in each weight, accumulated draw by draw so that memory does not grow with `k`.
    /// Every guided site must be local (see `importanceSampledLogMarginalLikelihood` otherwise).
    public func importanceSampledLogLikelihood(_ rows: Input, samples k: Int, seed: UInt64 = 0) throws -> Tensor {
        guard k >= 1 else { throw TrainingError.badOptions(reason: "importance sampling needs at least 1 sample, got \(k)") }
        if plan == nil { try compile(example: rows, datasetSize: rows.rowCount) }
        let computation = try importanceComputation(generator: evaluationGenerator(3, seed: seed))
        // Several draws per pass: the rows repeated, the encoders run once (see `RepeatedRows`).
        let count = rows.rowCount
        let perPass = Swift.max(1, Swift.min(k, 2048 / Swift.max(count, 1)))
        return try withoutGradient {
            let copiesOfRows = { (copies: Int) in copies == 1 ? rows : rows.rows((0..<(copies * count)).map { $0 % count }) }
            let fullPass = copiesOfRows(perPass)
            var running: Tensor?
            var drawn = 0
            let encoderOutputs = EncoderOutputs()
            while drawn < k {
                let copies = Swift.min(perPass, k - drawn)
                let repeated = copies == perPass ? fullPass : copiesOfRows(copies)
                // The first pass has checked every row against the distributions' supports.
                let pass = { try RepeatedRows.$current.withValue(RepeatedRows(copies: copies, encoderOutputs: encoderOutputs)) { try checkingTensorErrors { try computation.logWeights(repeated, checkingDensities: drawn == 0) } } }
                let weights = try (drawn == 0 ? pass() : DistributionValidation.skipping(pass)).reshaped(to: [copies, count])
                let combined = weights.logSumExp(axis: 0)
                running = running.map { Tensor.stack([$0, combined]).logSumExp(axis: 0) } ?? combined
                drawn += copies
            }
            return running! - Float(Foundation.log(Double(k)))
        }
    }

    /// The computation for importance sampling: the sites the guide draws by the score function
    /// are drawn from their defensive proposals (`DefensiveProposal`) where they have
    /// a list of values, so that no value goes unproposed.
    func importanceComputation(generator: GeneratorBox) throws -> ELBOComputation<Input> {
        var computation = try computation(generator: generator)
        computation.defensiveSites = Set(computation.plan.sites.filter { $0.estimator == .scoreFunction }.map(\.name))
        return computation
    }

    /// `log p(x)` of all the rows together, estimated by importance sampling with the guide as
    /// proposal (each draw covers every latent site, global ones included): the estimate for a
    /// model with global latents, whose log-likelihood does not split by row.
    public func importanceSampledLogMarginalLikelihood(_ rows: Input, samples k: Int, seed: UInt64 = 0) throws -> Float {
        try importanceSampledEstimate(rows, samples: k, seed: seed).logLikelihood
    }

    /// As `importanceSampledLogMarginalLikelihood`, with the weights' effective sample size
    /// `(sum w)^2 / sum w^2`: near `k` when the guide covers the posterior, near 1 when one draw
    /// carries the estimate, which is then likely low.
    public func importanceSampledEstimate(_ rows: Input, samples k: Int, seed: UInt64 = 0) throws -> (logLikelihood: Float, effectiveSampleSize: Double) {
        guard k >= 1 else { throw TrainingError.badOptions(reason: "importance sampling needs at least 1 sample, got \(k)") }
        if plan == nil { try compile(example: rows, datasetSize: rows.rowCount) }
        let computation = try importanceComputation(generator: evaluationGenerator(4, seed: seed))
        let weights = try withoutGradient {
            try (0..<k).map { draw in Double(try checkingTensorErrors { try computation.jointLogWeight(rows, checkingDensities: draw == 0) }.scalar) }
        }
        let largest = weights.max() ?? 0
        guard largest.isFinite else { return (Float(largest), 0) }
        let scaled = weights.map { Foundation.exp($0 - largest) }
        let total = scaled.reduce(0, +)
        return (Float(largest + Foundation.log(total / Double(k))), total * total / scaled.map { $0 * $0 }.reduce(0, +))
    }

    /// An & Cho's reconstruction probability of each row (2015), on the log scale:
    /// `(1/L) sum_l log p(x | z_l)` with `z_l ~ q(z | x)`; low values mark anomalies.
    public func reconstructionLogProbability(_ rows: Input, samples: Int = 10, seed: UInt64 = 0) throws -> Tensor {
        guard samples >= 1 else { throw TrainingError.badOptions(reason: "the reconstruction probability needs at least 1 sample, got \(samples)") }
        if plan == nil { try compile(example: rows, datasetSize: rows.rowCount) }
        let computation = try computation(generator: evaluationGenerator(8, seed: seed))
        return try withoutGradient {
            var total = Tensor.zeros([rows.rowCount])
            for _ in 0..<samples { total = total + (try checkingTensorErrors { try computation.reconstructionLogProbability(rows) }) }
            return total / Float(samples)
        }
    }

    /// The ELBO of each row (one draw of the guide; the sites it enumerates exactly). Every
    /// latent site must be local (see `elbo` otherwise).
    public func pointwiseELBO(_ rows: Input) throws -> Tensor {
        if plan == nil { try compile(example: rows, datasetSize: rows.rowCount) }
        let computation = try computation(generator: evaluationGenerator(5))
        return try withoutGradient { try checkingTensorErrors { try computation.pointwiseELBO(rows) } }
    }

    /// The guide's posterior of the finite-support site `site` against the exact posterior by
    /// enumeration, for `rows` (model parameters as learned). A guide whose head is fed upstream
    /// latents is compared by its marginal, its conditionals summed over their values (one draw
    /// of them compared a conditional with a marginal: KL 0.39 a row for a guide whose whole
    /// joint was within 0.008 of exact); the rows where a partly observed site is observed
    /// compare the observation with itself.
    public func compareWithExactPosterior(_ rows: Input, site: String) throws -> PosteriorComparison {
        let count = rows.rowCount
        guard count > 0 else { throw TrainingError.badOptions(reason: "the comparison with the exact posterior needs at least 1 row, got none") }
        if plan == nil { try compile(example: rows, datasetSize: count) }
        guard let plan, let guide else { throw TrainingError.notCompiled }
        guard let plate = plan.dataPlate else {
            throw ModelError.noSuchSite(name: "data plate", model: model.name, available: [])
        }
        guard plan.sites.contains(where: { $0.name == site }) else {
            throw ModelError.noSuchSite(name: site, model: model.name, available: plan.sites.map(\.name))
        }
        if plan.sites.contains(where: { $0.name == site && !$0.isGuided }) {
            throw CompilerError.guideMismatch(site: site, reason: "it is summed out of the model, so no guide stands for it; model.exactPosterior gives its posterior")
        }
        if let global = plan.sites.first(where: { $0.plate == nil }) {
            let reason = global.name == site ? "it is global, and the comparison is row by row, for a site inside the data plate" : "the model has a global latent site ('\(global.name)'), so log p(x) and the ELBO do not split by row"
            throw CompilerError.guideMismatch(site: site, reason: "\(reason); compare model.exactPosterior(rows, n, site: \"\(site)\") with posterior(rows)[\"\(site)\"]")
        }
        return try withoutGradient {
            let exact = try model.exactPosterior(rows, count, site: site, parameters: parameters)
            guard let guided = plan.guidedSites.first(where: { $0.name == site }), let guideDistribution = try posterior(rows)[site] else {
                throw ModelError.noSuchSite(name: site, model: "guide of \(model.name)", available: plan.guidedSites.map(\.name))
            }
            var q: Tensor
            switch guideDistribution {
            case let categorical as Categorical: q = categorical.probs
            case let bernoulli as Bernoulli: q = Tensor.stack([1 - bernoulli.probs, bernoulli.probs], axis: -1)
            case let discrete as FiniteDiscrete: q = discrete.probs
            default: throw CompilerError.guideMismatch(site: site, reason: "its guide \(type(of: guideDistribution)) is not a distribution over the site's finite support")
            }
            if let upstream = guided.inputs.first(where: { input in plan.sites.contains { $0.name == input } }) {
                if plan.sites.contains(where: { $0.isPartlyObserved && guided.inputs.contains($0.name) }) {
                    throw CompilerError.guideMismatch(site: site, reason: "its guide is fed site '\(upstream)', which is observed in some rows, where training conditions on the observation; compare posteriorSummary's joint draws instead")
                }
                do {
                    q = try guide.exactPosterior(rows, count, site: site, parameters: guideParameters)
                } catch let error as ModelError {
                    guard case .notEnumerable = error else { throw error }
                    throw CompilerError.guideMismatch(site: site, reason: "its guide is conditioned on site '\(upstream)', and its marginal q(\(site) | x) cannot be summed exactly over the guide's other sites (\(error)); compare posteriorSummary's joint draws instead")
                }
            }
            if guided.isPartlyObserved, let observation = try model.trace(rows, count, parameters: parameters, seed: 0)[site]?.partialObservation {
                q = select(observation.mask.unsqueezed(axis: -1), exact, q)
            }
            guard q.shape == exact.shape else {
                throw CompilerError.guideMismatch(site: site, reason: "its guide has probabilities of shape \(q.shape), the exact posterior \(exact.shape)")
            }
            let floor = Float.leastNormalMagnitude
            let perRow = { (t: Tensor) in t.reshaped(to: [count, -1]).sum(axis: 1) }
            let kl = perRow(q * (log(clamp(q, min: floor)) - log(clamp(exact, min: floor))))
            let tv = perRow(0.5 * abs(q - exact))
            let cells = zip(argmax(q), argmax(exact)).map { $0 == $1 }
            let cellsPerRow = cells.count / Swift.max(count, 1)
            let agrees = (0..<count).map { row in cells[(row * cellsPerRow)..<((row + 1) * cellsPerRow)].allSatisfy { $0 } }
            let logLikelihood = try model.pointwiseLogMarginalLikelihood(rows, count, plate: plate.name, parameters: parameters)
            let elbos = try pointwiseELBO(rows)
            return PosteriorComparison(klDivergence: kl.scalars, totalVariation: tv.scalars, argmaxAgrees: agrees, logLikelihood: logLikelihood.scalars, elbo: elbos.scalars)
        }
    }

    /// The amortization gap on `rows`: the encoder's ELBO, the ELBO after `steps` Adam steps
    /// (rate `learningRate`) on free per-row copies of the local heads' outputs (free per-row
    /// offsets of a head also fed upstream latents; a namespace of their own), and `log p(x)`
    /// (exact when every latent is summable, else importance-sampled with `samples` draws).
    public func amortizationGap(_ rows: Input, steps: Int = 300, learningRate: Float = 0.01, samples: Int = 5000, particles: Int = 10) throws -> AmortizationGap {
        let count = rows.rowCount
        guard count > 0 else { throw TrainingError.badOptions(reason: "the amortization gap needs at least 1 row, got none") }
        guard steps >= 0, particles >= 1, samples >= 1, learningRate > 0, learningRate.isFinite else {
            throw TrainingError.badOptions(reason: "the amortization gap needs steps >= 0, particles >= 1, samples >= 1 and a positive, finite learning rate; got \(steps), \(particles), \(samples) and \(learningRate)")
        }
        if plan == nil { try compile(example: rows, datasetSize: count) }
        guard let plan, handWrittenGuide == nil else {
            throw CompilerError.guideMismatch(site: "*", reason: "the amortization gap needs the compiled guide, not a hand-written one")
        }
        let program = AmortizedGuide<Input>(plan: plan, options: options, featureCount: scaling.mean.count, scaling: scaling)
        let initial = try withoutGradient { try program.headOutputs(rows, parameters: guideParameters) }
        let amortized = try elbo(rows, datasetSize: count, particles: particles) / Float(count)
        let refined = Amortized(model, guide: try program.refinedProgram(initial: initial), estimators: Dictionary(uniqueKeysWithValues: plan.sites.map { ($0.name, $0.estimator) }), seed: seed &+ 1)
        for name in parameters.names { refined.parameters.setUnconstrained(name, parameters.unconstrained[name]!) }
        for name in guideParameters.names { refined.guideParameters.setUnconstrained(name, guideParameters.unconstrained[name]!) }
        try refined.compile(example: rows, datasetSize: count)
        let free = Set(initial.keys.map { "guide/" + AmortizedGuide<Input>.freeOutputName($0) })
        var optimizer = OptimizerChoice.adam(learningRate: learningRate).make()
        for _ in 0..<steps {
            let (_, gradients) = try refined.objectiveGradient(rows, datasetSize: count)
            refined.updateParameters { optimizer.update(&$0, gradients: gradients.filter { free.contains($0.key) }) }
        }
        let refinedELBO = try refined.elbo(rows, datasetSize: count, particles: particles) / Float(count)
        // A global latent ties the rows together: log p(x) is then the rows' joint, per row.
        let summable = plan.sites.allSatisfy { $0.estimator == .enumerated || $0.estimator == .marginalized }
        let global = plan.sites.contains { $0.plate == nil }
        let logLikelihood: Float
        switch (summable, global, plan.dataPlate) {
        case (true, false, let plate?):
            logLikelihood = try withoutGradient { try model.pointwiseLogMarginalLikelihood(rows, count, plate: plate.name, parameters: parameters).mean().scalar }
        case (true, true, _):
            logLikelihood = try withoutGradient { try model.logMarginalLikelihood(rows, count, parameters: parameters).scalar } / Float(count)
        case (false, true, _):
            logLikelihood = try importanceSampledLogMarginalLikelihood(rows, samples: samples) / Float(count)
        default:
            logLikelihood = try importanceSampledLogLikelihood(rows, samples: samples).mean().scalar
        }
        return AmortizationGap(amortizedELBO: amortized, refinedELBO: refinedELBO, logLikelihood: logLikelihood)
    }
}

/// The index of the largest entry of each row (last axis).
func argmax(_ t: Tensor) -> [Int] {
    let k = t.shape.last ?? 1
    let values = t.scalars
    return stride(from: 0, to: values.count, by: Swift.max(k, 1)).map { start in
        (0..<k).max { values[start + $0] < values[start + $1] } ?? 0
    }
}

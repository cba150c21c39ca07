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
    /// Whether q and the exact posterior pick the same most probable value, per point.
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
    /// `log (1/k) sum_i p(x_n, z_i) / q(z_i | x_n)`, accumulated draw by draw so that memory does
    /// not grow with `k`.
    public func importanceSampledLogLikelihood(_ x: Tensor, samples k: Int) throws -> Tensor {
        if plan == nil { try compile(example: x, datasetSize: x.shape[0]) }
        let computation = try computation()
        return try withoutGradient {
            var running: Tensor?
            for _ in 0..<Swift.max(k, 1) {
                let weights = try computation.logWeights(x, datasetSize: x.shape[0])
                running = running.map { Tensor.stack([$0, weights]).logSumExp(axis: 0) } ?? weights
            }
            return running! - Float(Foundation.log(Double(Swift.max(k, 1))))
        }
    }

    /// The guide's posterior of the finite-support site `site` against the exact posterior by
    /// enumeration, for the rows `x` (model parameters as learned).
    public func compareWithExactPosterior(_ x: Tensor, site: String) throws -> PosteriorComparison {
        let rows = x.shape[0]
        if plan == nil { try compile(example: x, datasetSize: rows) }
        return try withoutGradient {
            let exact = try model.exactPosterior(x, rows, site: site, parameters: parameters)
            guard let guideDistribution = try posterior(x)[site] else {
                throw ModelError.noSuchSite(name: site, model: "guide of \(model.name)", available: plan?.sites.map(\.name) ?? [])
            }
            let q: Tensor
            switch guideDistribution {
            case let categorical as Categorical: q = categorical.probs
            case let bernoulli as Bernoulli: q = Tensor.stack([1 - bernoulli.probs, bernoulli.probs], axis: -1)
            default: throw ModelError.notEnumerable(site: site, reason: "its guide distribution \(type(of: guideDistribution)) is not categorical or Bernoulli")
            }
            let floor = Float.leastNormalMagnitude
            let kl = (q * (log(clamp(q, min: floor)) - log(clamp(exact, min: floor)))).sum(axis: -1).reshaped(to: [rows])
            let tv = (0.5 * abs(q - exact)).sum(axis: -1).reshaped(to: [rows])
            let agrees = zip(argmax(q), argmax(exact)).map { $0 == $1 }
            let logLikelihood = try pointwiseLogMarginal(x)
            let elbos = try pointwiseELBO(x)
            return PosteriorComparison(klDivergence: kl.scalars, totalVariation: tv.scalars, argmaxAgrees: agrees, logLikelihood: logLikelihood, elbo: elbos)
        }
    }

    /// The amortization gap on the rows `x`: the encoder's ELBO, the ELBO after `steps` Adam steps
    /// (rate `learningRate`) on free per-point copies of the heads' outputs, and `log p(x)`
    /// (exact when every latent is summable, else importance-sampled with `samples` draws).
    public func amortizationGap(_ x: Tensor, steps: Int = 300, learningRate: Float = 0.01, samples: Int = 5000, particles: Int = 10) throws -> AmortizationGap {
        let rows = x.shape[0]
        if plan == nil { try compile(example: x, datasetSize: rows) }
        guard let plan, options.guide == nil else { throw CompilerError.unsupportedSite(site: "*", reason: "the amortization gap needs the compiled guide") }
        let dataSize = x.count / Swift.max(rows, 1)
        let program = AmortizedGuide(plan: plan, options: options, dataSize: dataSize)
        let initial = try withoutGradient { try program.headOutputs(x, parameters: parameters) }
        let amortized = try elbo(x, datasetSize: rows, particles: particles) / Float(rows)
        let refinedStore = ParameterStore()
        for name in parameters.names where !name.hasPrefix("guide.") { refinedStore.setUnconstrained(name, parameters.unconstrained[name]!) }
        var refinedOptions = CompilerOptions()
        refinedOptions.guide = program.refinedProgram(initial: initial)
        refinedOptions.estimators = Dictionary(uniqueKeysWithValues: plan.sites.map { ($0.name, $0.estimator) })
        let refined = Amortized(model, options: refinedOptions, seed: generator.generator.seed &+ 1)
        for name in refinedStore.names { refined.parameters.setUnconstrained(name, refinedStore.unconstrained[name]!) }
        try refined.compile(example: x, datasetSize: rows)
        var optimizer = OptimizerChoice.adam(learningRate: learningRate).make()
        for _ in 0..<steps {
            let (_, gradients) = try refined.objectiveGradient(x, datasetSize: rows)
            let free = gradients.filter { $0.key.hasPrefix("refine.") }
            refined.parameters.updateUnconstrained { optimizer.update(&$0, gradients: free, learningRate: learningRate) }
        }
        let refinedELBO = try refined.elbo(x, datasetSize: rows, particles: particles) / Float(rows)
        let logLikelihood: Float
        if plan.sites.allSatisfy({ $0.estimator == .enumerated }) {
            logLikelihood = try pointwiseLogMarginal(x).reduce(0, +) / Float(rows)
        } else {
            logLikelihood = try importanceSampledLogLikelihood(x, samples: samples).mean().scalar
        }
        return AmortizationGap(amortizedELBO: amortized, refinedELBO: refinedELBO, logLikelihood: logLikelihood)
    }

    /// Exact `log p(x_n)` per row by enumeration.
    func pointwiseLogMarginal(_ x: Tensor) throws -> [Float] {
        try (0..<x.shape[0]).map { n in
            try model.logMarginalLikelihood(x.slice(axis: 0, n..<(n + 1)), 1, parameters: parameters).scalar
        }
    }

    /// ELBO per row (one row at a time, so each is exact for enumerated sites).
    func pointwiseELBO(_ x: Tensor) throws -> [Float] {
        try (0..<x.shape[0]).map { n in try elbo(x.slice(axis: 0, n..<(n + 1)), datasetSize: 1) }
    }
}

/// The index of the largest entry of each row (last axis).
func argmax(_ t: Tensor) -> [Int] {
    let k = t.shape.last ?? 1
    let values = t.scalars
    return stride(from: 0, to: values.count, by: k).map { start in
        (0..<k).max { values[start + $0] < values[start + $1] } ?? 0
    }
}

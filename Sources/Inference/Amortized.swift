import Distributions
import Foundation
import NN
import Optim
import PPL
import TensorCore

/// Amortized variational inference for a model written in Latent: the compiler derives the
/// guide q_phi(z|x) from the model (see `GuidePlan`), and `fit` runs the AEVB loop of
/// Kingma & Welling (2013, Algorithm 1): minibatches, a reparameterized ELBO estimate, its
/// gradient with respect to the model's and the guide's parameters, an optimizer step.
///
/// The model takes a minibatch of data rows and the size of the whole data set, and declares
/// its data plate with `plate("data", size: datasetSize, subsample: x)`.
///
/// ```swift
/// let vi = Amortized(vae)
/// let history = try vi.fit(trainImages, options: TrainingOptions(epochs: 4))
/// let q = try vi.posterior(testImages)["z"]
/// ```
public final class Amortized {
    public let model: Model<Tensor, Int>
    public let options: CompilerOptions
    /// The model's and the guide's parameters (`guide.` prefixes the guide's).
    public let parameters = ParameterStore()
    /// The compiled plan, once `compile` (or `fit`) has seen data.
    public private(set) var plan: GuidePlan?
    private(set) var guide: Model<Tensor, Int>?
    /// Draws of the guide and the model.
    let generator: GeneratorBox
    var baselines: [String: Float] = [:]

    /// Prepares inference for `model`; the guide is compiled on first sight of data.
    public init(_ model: Model<Tensor, Int>, options: CompilerOptions = CompilerOptions(), seed: UInt64 = 0) {
        self.model = model
        self.options = options
        generator = GeneratorBox(RandomGenerator(seed: seed))
    }

    /// Traces the model on `example` rows and derives the guide; returns the plan.
    @discardableResult
    public func compile(example x: Tensor, datasetSize: Int) throws -> GuidePlan {
        let prototype = try model.trace(x, datasetSize, parameters: parameters, seed: 0)
        let rows = x.shape.first ?? 0
        if let handWritten = options.guide {
            let guideTrace = try handWritten.trace(x, datasetSize, parameters: parameters, seed: 0)
            plan = try HandWrittenGuide.plan(guideTrace: guideTrace, prototype: prototype, model: model.name, rows: rows, forced: options.estimators)
            guide = handWritten
        } else {
            let compiled = try GuideCompiler.plan(prototype: prototype, model: model.name, rows: rows, options: options)
            let program = AmortizedGuide(plan: compiled, options: options, dataSize: x.count / Swift.max(rows, 1))
            plan = try program.countedPlan()
            guide = try program.program()
        }
        _ = try guide!.trace(x, datasetSize, parameters: parameters, seed: 0)
        return plan!
    }

    /// Sets every parameter from a checkpoint (after `compile`, which creates them).
    public func loadParameters(from checkpoint: Checkpoint, path: String) throws {
        for name in parameters.names {
            guard let value = checkpoint.parameters[name], value.shape == parameters.unconstrained[name]?.shape else {
                throw CheckpointError.mismatch(path: path, reason: "parameter '\(name)' is missing or has another shape")
            }
            parameters.setUnconstrained(name, value)
        }
    }

    func computation() throws -> ELBOComputation {
        guard let plan, let guide else { throw TrainingError.notCompiled }
        return ELBOComputation(model: model, guide: guide, plan: plan, parameters: parameters, generator: generator)
    }

    /// The ELBO of `x` (summed over its rows, with the data plate scaled by
    /// `datasetSize / rows`), averaged over `particles` draws; no gradient is recorded.
    public func elbo(_ x: Tensor, datasetSize: Int? = nil, particles: Int = 1) throws -> Float {
        if plan == nil { try compile(example: x, datasetSize: datasetSize ?? x.shape[0]) }
        let computation = try computation()
        return try withoutGradient {
            var total: Float = 0
            for _ in 0..<Swift.max(particles, 1) {
                total += try computation.estimate(x, datasetSize: datasetSize ?? x.shape[0], beta: 1, baselines: &baselines).value
            }
            return total / Float(Swift.max(particles, 1))
        }
    }

    /// The guide's distribution at each latent site for the rows `x` (the learned posterior).
    public func posterior(_ x: Tensor) throws -> [String: any Distribution] {
        if plan == nil { try compile(example: x, datasetSize: x.shape[0]) }
        guard let guide else { throw TrainingError.notCompiled }
        let recorder = TraceHandler()
        try withoutGradient { try guide.run(x, x.shape[0], handlers: [recorder, parameters, SeedHandler(generator)]) }
        var result: [String: any Distribution] = [:]
        for site in recorder.trace.latentSites { result[site.name] = site.distribution }
        return result
    }
}

/// Training stopped for a reason the user must see.
public enum TrainingError: Error, CustomStringConvertible {
    case notCompiled
    case nonFiniteLoss(step: Int, site: String)
    case nonFiniteGradient(step: Int, parameter: String)
    case emptyData(reason: String)

    public var description: String {
        switch self {
        case .notCompiled: return "the guide is not compiled yet: call compile(example:datasetSize:) or fit first"
        case let .nonFiniteLoss(step, site): return "training diverged at step \(step): the log-probability of site '\(site)' is not finite; lower the learning rate or check the model"
        case let .nonFiniteGradient(step, parameter): return "training diverged at step \(step): the gradient of parameter '\(parameter)' is not finite; lower the learning rate or clip gradients"
        case let .emptyData(reason): return "no data to train on: \(reason)"
        }
    }
}

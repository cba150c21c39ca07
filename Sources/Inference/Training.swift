import Distributions
import Foundation
import Optim
import PPL
import TensorCore

/// The objective that training maximizes.
public enum Objective: Sendable, Equatable {
    /// The ELBO (each site by its plan's estimator).
    case elbo
    /// The importance-weighted bound with `k` samples per datapoint (Burda et al. 2015).
    case importanceWeighted(k: Int)
}

/// Settings of `fit`.
public struct TrainingOptions {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerChoice
    public var schedule: LearningRateSchedule = .constant
    /// Largest joint L2 norm of the gradients, if any.
    public var clipNorm: Float?
    /// L2 penalty on every parameter (the paper's N(0, I) prior on weights, per step).
    public var weightDecay: Float = 0
    /// ELBO samples per datapoint (L).
    public var particles = 1
    public var objective: Objective = .elbo
    /// Weight of the latent terms (beta-VAE); 0 with point estimates gives an autoencoder.
    public var beta: Float = 1
    /// Epochs over which beta rises linearly from 0 (KL warm-up); 0 for none.
    public var warmUpEpochs = 0
    public var seed: UInt64 = 0
    /// Rows on which to report the held-out ELBO after each epoch.
    public var heldOut: Tensor?
    /// A JSON-lines metrics log, one line per epoch.
    public var metricsPath: String?
    /// Where to write a checkpoint after each epoch.
    public var checkpointPath: String?
    /// Applied to each minibatch before the step (stochastic binarization, augmentation).
    public var transformBatch: ((Tensor, inout RandomGenerator) -> Tensor)?
    /// Check distributions' parameters and values at every step; by default only during the
    /// first epoch of a call, which sees every data row (divergence is still caught every step).
    public var validateEveryStep = false
    /// Extra facts stored in every checkpoint (the model's settings, say).
    public var checkpointMetadata: [String: String] = [:]
    /// Called after every step.
    public var onStep: ((StepReport) -> Void)?
    /// Called after every epoch.
    public var onEpoch: ((EpochReport) -> Void)?

    public init(epochs: Int = 10, batchSize: Int = 128, optimizer: OptimizerChoice = .adam(learningRate: 1e-3)) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
    }
}

/// Progress within an epoch.
public struct StepReport {
    public let epoch: Int
    public let batch: Int
    public let batches: Int
    /// Mean training ELBO per datapoint so far in this epoch.
    public let runningELBO: Float
    public let imagesPerSecond: Double
    public let secondsLeft: Double
}

/// One epoch's figures.
public struct EpochReport: Codable {
    public let epoch: Int
    /// Mean training ELBO per datapoint over the epoch's minibatches.
    public let trainELBO: Float
    /// ELBO per datapoint on the held-out rows, if given.
    public let heldOutELBO: Float?
    public let seconds: Double
    public let imagesPerSecond: Double
}

extension Amortized {
    /// Trains on the rows of `data` (shape `[N, ...]`) by stochastic variational inference;
    /// with `resume`, continues from a checkpoint exactly as if training had not stopped.
    public func fit(_ data: Tensor, options: TrainingOptions, resume: Checkpoint? = nil) throws -> [EpochReport] {
        let count = data.shape.first ?? 0
        guard count > 0 else { throw TrainingError.emptyData(reason: "the data have no rows") }
        guard data.isFinite else { throw TrainingError.emptyData(reason: "the data contain NaN or infinite values") }
        let batchSize = Swift.min(Swift.max(options.batchSize, 1), count)
        if plan == nil { try compile(example: data.slice(axis: 0, 0..<batchSize), datasetSize: count) }
        var optimizer = options.optimizer.make(weightDecay: options.weightDecay)
        var shuffler = RandomGenerator(seed: options.seed &+ 0x5EED)
        var startEpoch = 0
        if let resume {
            startEpoch = try restore(resume, optimizer: &optimizer, shuffler: &shuffler)
        } else {
            generator.generator = RandomGenerator(seed: options.seed)
        }
        let batches = (count + batchSize - 1) / batchSize
        var reports: [EpochReport] = []
        for epoch in startEpoch..<options.epochs {
            let start = Date()
            let order = permutation(count, &shuffler)
            var total: Double = 0
            for batch in 0..<batches {
                let rows = Array(order[(batch * batchSize)..<Swift.min((batch + 1) * batchSize, count)])
                var x = data[Tensor(rows.map(Float.init))]
                if let transform = options.transformBatch { x = transform(x, &shuffler) }
                let beta = warmUpWeight(options, epoch: epoch, batch: batch, batches: batches)
                let value = epoch > startEpoch && !options.validateEveryStep
                    ? try DistributionValidation.skipping { try step(x, datasetSize: count, beta: beta, optimizer: &optimizer, options: options) }
                    : try step(x, datasetSize: count, beta: beta, optimizer: &optimizer, options: options)
                total += Double(value) * Double(rows.count)
                if let onStep = options.onStep {
                    let elapsed = Date().timeIntervalSince(start)
                    let seen = Double(Swift.min((batch + 1) * batchSize, count))
                    onStep(StepReport(epoch: epoch + 1, batch: batch + 1, batches: batches, runningELBO: Float(total / seen),
                                      imagesPerSecond: seen / Swift.max(elapsed, 1e-9), secondsLeft: elapsed / seen * Double(count) - elapsed))
                }
            }
            let seconds = Date().timeIntervalSince(start)
            let heldOut = try options.heldOut.map { try heldOutELBO($0, batchSize: Swift.max(batchSize, 1000)) }
            let report = EpochReport(epoch: epoch + 1, trainELBO: Float(total / Double(count)), heldOutELBO: heldOut, seconds: seconds, imagesPerSecond: Double(count) / seconds)
            reports.append(report)
            if let path = options.metricsPath { try appendMetrics(report, to: path) }
            if let path = options.checkpointPath {
                try checkpoint(epoch: epoch + 1, optimizer: optimizer, shuffler: shuffler, options: options).write(to: path)
            }
            options.onEpoch?(report)
        }
        return reports
    }

    /// One gradient step on the rows `x`; returns the minibatch's ELBO per row.
    func step(_ x: Tensor, datasetSize: Int, beta: Float, optimizer: inout any Optimizer, options: TrainingOptions) throws -> Float {
        var (value, gradients) = try objectiveGradient(x, datasetSize: datasetSize, beta: beta, particles: options.particles, objective: options.objective, step: optimizer.step + 1)
        if let maximum = options.clipNorm { clipGradientNorm(&gradients, maximum: maximum) }
        let rate = options.optimizer.learningRate * options.schedule.multiplier(at: optimizer.step + 1)
        parameters.updateUnconstrained { values in optimizer.update(&values, gradients: gradients, learningRate: rate) }
        return value / Float(datasetSize)
    }

    /// The training objective on the rows `x` (the ELBO, or the importance-weighted bound, of the
    /// whole data set as estimated from this minibatch) and its gradient with respect to every
    /// unconstrained parameter, as the loss `-objective / datasetSize` sees it.
    /// `step` only labels a divergence error.
    public func objectiveGradient(
        _ x: Tensor, datasetSize: Int, beta: Float = 1, particles: Int = 1, objective: Objective = .elbo, step: Int = 0
    ) throws -> (value: Float, gradients: [String: Tensor]) {
        if plan == nil { try compile(example: x, datasetSize: datasetSize) }
        let computation = try computation()
        let names = parameters.names
        let tape = GradientTape()
        var tracked: [Tensor] = []
        var report: Float = 0
        var lastTraces: (Trace, Trace)?
        let saved = parameters.unconstrained
        defer { for name in names { parameters.setUnconstrained(name, saved[name]!) } }
        for name in names {
            let watched = tape.watch(saved[name]!)
            tracked.append(watched)
            parameters.setUnconstrained(name, watched)
        }
        let loss = try checkingTensorErrors {
            try tape.record { () throws -> Tensor in
                let total: Tensor
                switch objective {
                case .elbo:
                    var sum = Tensor(0)
                    for _ in 0..<Swift.max(particles, 1) {
                        let estimate = try computation.estimate(x, datasetSize: datasetSize, beta: beta, baselines: &baselines)
                        sum = sum + estimate.objective
                        report += estimate.value
                        lastTraces = (estimate.modelTrace, estimate.guideTrace)
                    }
                    report /= Float(Swift.max(particles, 1))
                    total = sum / Float(Swift.max(particles, 1))
                case let .importanceWeighted(k):
                    let bound = try importanceWeightedBound(x, k: k, computation: computation)
                    report = bound.scalar * Float(datasetSize) / Float(x.shape[0])
                    total = bound * (Float(datasetSize) / Float(x.shape[0]))
                }
                return -total / Float(datasetSize)
            }
        }
        guard report.isFinite else {
            throw TrainingError.nonFiniteLoss(step: step, site: firstNonFiniteSite(lastTraces) ?? "(unknown)")
        }
        var gradients: [String: Tensor] = [:]
        for (name, gradient) in zip(names, tape.gradient(of: loss, withRespectTo: tracked)) {
            guard gradient.isFinite else { throw TrainingError.nonFiniteGradient(step: step, parameter: name) }
            gradients[name] = gradient
        }
        return (report, gradients)
    }

    /// `sum_n log (1/k) sum_i w_{i,n}` over the rows, from k independent draws of the guide.
    func importanceWeightedBound(_ x: Tensor, k: Int, computation: ELBOComputation) throws -> Tensor {
        let rows = x.shape[0]
        let weights = try (0..<Swift.max(k, 1)).map { _ in try computation.logWeights(x, datasetSize: rows) }
        return (Tensor.stack(weights).logSumExp(axis: 0) - Float(Foundation.log(Double(Swift.max(k, 1))))).sum()
    }

    /// The ELBO per row of `x`, in batches, without gradients.
    func heldOutELBO(_ x: Tensor, batchSize: Int) throws -> Float {
        let count = x.shape[0]
        var total: Double = 0
        var start = 0
        while start < count {
            let end = Swift.min(start + batchSize, count)
            total += Double(try elbo(x.slice(axis: 0, start..<end), datasetSize: end - start))
            start = end
        }
        return Float(total / Double(count))
    }

    func warmUpWeight(_ options: TrainingOptions, epoch: Int, batch: Int, batches: Int) -> Float {
        guard options.warmUpEpochs > 0 else { return options.beta }
        let progress = (Float(epoch) + Float(batch + 1) / Float(batches)) / Float(options.warmUpEpochs)
        return options.beta * Swift.min(progress, 1)
    }

    func permutation(_ count: Int, _ generator: inout RandomGenerator) -> [Int] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        return order
    }

    func firstNonFiniteSite(_ traces: (Trace, Trace)?) -> String? {
        guard let (model, guide) = traces else { return nil }
        for trace in [guide, model] {
            if let site = trace.sites.first(where: { !($0.logProb?.isFinite ?? true) }) { return site.name }
        }
        return nil
    }

    func appendMetrics(_ report: EpochReport, to path: String) throws {
        let line = String(decoding: try JSONEncoder().encode(report), as: UTF8.self) + "\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        } else {
            try line.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    /// The training state after `epoch` epochs.
    func checkpoint(epoch: Int, optimizer: any Optimizer, shuffler: RandomGenerator, options: TrainingOptions) -> Checkpoint {
        Checkpoint(parameters: parameters.unconstrained, optimizerState: optimizer.state, metadata: [
            "model": model.name,
            "epoch": String(epoch),
            "optimizer": options.optimizer.description,
            "seed": String(generator.generator.seed),
            "streams": String(generator.generator.streamsUsed),
            "shuffle seed": String(shuffler.seed),
            "shuffle streams": String(shuffler.streamsUsed),
            "constraints": parameters.names.map { "\($0)=\(parameters.constraints[$0].map { "\($0)" } ?? "real")" }.joined(separator: ";"),
        ].merging(options.checkpointMetadata) { own, _ in own })
    }

    /// Loads a checkpoint's parameters, optimizer state and generator positions; returns the epoch.
    func restore(_ checkpoint: Checkpoint, optimizer: inout any Optimizer, shuffler: inout RandomGenerator) throws -> Int {
        guard checkpoint.metadata["model"] == model.name else {
            throw CheckpointError.mismatch(path: "(given)", reason: "it was written for model '\(checkpoint.metadata["model"] ?? "?")', not '\(model.name)'")
        }
        for name in parameters.names {
            guard let value = checkpoint.parameters[name], value.shape == parameters.unconstrained[name]?.shape else {
                throw CheckpointError.mismatch(path: "(given)", reason: "parameter '\(name)' is missing or has another shape")
            }
            parameters.setUnconstrained(name, value)
        }
        optimizer.restore(checkpoint.optimizerState)
        func number(_ key: String) -> UInt64 { UInt64(checkpoint.metadata[key] ?? "") ?? 0 }
        generator.generator = RandomGenerator(seed: number("seed"), streamsUsed: number("streams"))
        shuffler = RandomGenerator(seed: number("shuffle seed"), streamsUsed: number("shuffle streams"))
        return Int(checkpoint.metadata["epoch"] ?? "") ?? 0
    }
}

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

    /// The first setting the importance-weighted bound would ignore, which belongs to the ELBO
    /// (beta, a warm-up, particles, supervision), described; nil for the ELBO.
    func ignoredSetting(beta: Float, warmUpEpochs: Int = 0, particles: Int, supervision: Float) -> String? {
        guard case let .importanceWeighted(k) = self else { return nil }
        let ignored = [(beta != 1, "beta \(beta)"), (warmUpEpochs > 0, "a warm-up of \(warmUpEpochs) epochs"), (particles > 1, "\(particles) particles"), (supervision > 0, "supervision \(supervision)")]
        return ignored.first(where: \.0).map { "\($0.1) applies to the ELBO, not to the importance-weighted bound (k = \(k)), which would ignore it" }
    }
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
    /// For a partly observed site: weight alpha of `log q(y | x)` at its observed rows, added to
    /// the objective so the guide learns from them too (Kingma et al. 2014 use 0.1 N); 0 leaves
    /// the guide of those rows to the ELBO alone.
    public var supervision: Float = 0
    /// Epochs over which beta rises linearly from 0 (KL warm-up); 0 for none.
    public var warmUpEpochs = 0
    public var seed: UInt64 = 0
    /// A JSON-lines metrics log, one line per epoch, rewritten whole (atomically) after each
    /// epoch, so an earlier run's log is replaced only once this run has an epoch to show; a
    /// resumed run keeps the lines of the epochs before it.
    public var metricsPath: String?
    /// Where to write a checkpoint after each epoch.
    public var checkpointPath: String?
    /// Check distributions' parameters and values at every step; by default only during the
    /// first epoch of a call, which sees every data row (divergence is still caught every step).
    public var validateEveryStep = false
    /// Extra facts stored in every checkpoint (the model's settings, say).
    public var checkpointMetadata: [String: String] = [:]
    /// The processes training together (MPI's ranks, see `OpenMPI`), nil for this process
    /// alone. Each process takes its share of every minibatch, draws what one process would
    /// draw for those rows, and applies the same update from the summed gradients; process 0
    /// alone writes the checkpoint and the metrics.
    public var communicator: (any Communicator)?
    /// Called with the compiled plan before the first step.
    public var onPlan: ((GuidePlan) -> Void)?
    /// Called after every step.
    public var onStep: ((StepReport) -> Void)?
    /// Called after every epoch.
    public var onEpoch: ((EpochReport) -> Void)?

    public init(epochs: Int = 10, batchSize: Int = 128, optimizer: OptimizerChoice = .adam(learningRate: 1e-3)) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
    }

    /// The first setting out of range, described.
    func firstProblem() -> String? {
        if epochs < 0 { return "epochs must be at least 0, got \(epochs)" }
        if batchSize < 1 { return "the batch size must be at least 1, got \(batchSize)" }
        if particles < 1 { return "particles must be at least 1, got \(particles)" }
        if case let .importanceWeighted(k) = objective, k < 1 { return "the importance-weighted bound needs k >= 1, got \(k)" }
        if let problem = optimizer.firstProblem { return problem }
        if let clipNorm, !(clipNorm > 0) { return "clipNorm must be positive, got \(clipNorm)" }
        if !beta.isFinite || beta < 0 { return "beta must be a number >= 0, got \(beta)" }
        if !supervision.isFinite || supervision < 0 { return "supervision must be a number >= 0, got \(supervision)" }
        if warmUpEpochs < 0 { return "warmUpEpochs must be at least 0, got \(warmUpEpochs)" }
        if let ignored = objective.ignoredSetting(beta: beta, warmUpEpochs: warmUpEpochs, particles: particles, supervision: supervision) { return ignored }
        if !weightDecay.isFinite || weightDecay < 0 { return "weightDecay must be a number >= 0, got \(weightDecay)" }
        return nil
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
    /// Trains on the rows of `data` by stochastic variational inference, reporting the ELBO of
    /// `heldOut` after each epoch (without changing anything training does). `transform`
    /// changes each minibatch before its step (stochastic binarization, augmentation); the
    /// guide is compiled on a transformed minibatch. With `resume`, continues from a checkpoint
    /// exactly as if training had not stopped. `data` may be rows in memory or a `RowSource`
    /// that reads them from disk a minibatch at a time; training is the same either way.
    @discardableResult
    public func fit<Rows: RowSource<Input>>(
        _ data: Rows, heldOut: (any RowSource<Input>)? = nil, options: TrainingOptions = TrainingOptions(), resume: Checkpoint? = nil,
        transform: ((Input, inout RandomGenerator) -> Input)? = nil
    ) throws -> [EpochReport] {
        if let problem = options.firstProblem() { throw TrainingError.badOptions(reason: problem) }
        // With several processes, a failure in any of them stops all (see `together`).
        let group = (options.communicator?.size ?? 1) > 1 ? options.communicator : nil
        let writes = (options.communicator?.rank ?? 0) == 0
        let count = data.rowCount
        let batchSize = Swift.min(options.batchSize, Swift.max(count, 1))
        var shuffler = RandomGenerator(seed: options.seed &+ 0x5EED)
        var optimizer = options.optimizer.make(weightDecay: options.weightDecay)
        var startEpoch = 0
        var fingerprint = ""
        try together(group) {
            guard count > 0 else { throw TrainingError.badData(reason: "the data have no rows") }
            if let bad = data.firstNonFiniteValue { throw TrainingError.badData(reason: "the data contain \(bad)") }
            if let heldOut, let bad = heldOut.firstNonFiniteValue { throw TrainingError.badData(reason: "the held-out data contain \(bad)") }
            if plan == nil {
                var preview = shuffler
                var example = try data.rows(at: Array(0..<batchSize))
                if let transform { example = transform(example, &preview) }
                do {
                    try compile(example: example, datasetSize: count)
                } catch let error as ModelError {
                    guard let refused = rowRefusedAlone(example, datasetSize: count) else { throw error }
                    throw TrainingError.badDataRow(row: refused.index, element: elementInRow(refused.error, row: refused.index, among: error), error: refused.error)
                }
            }
            // With several processes each sums over its own share of the rows.
            if batchSize < count || group != nil {
                try refuseSummedGlobal(on: group.map { "each of \($0.size) processes' share of the rows" } ?? "a minibatch of \(batchSize) rows", standingFor: count)
            }
            if let group { try checkDataParallel(group, rows: count, batchSize: batchSize) }
            if options.checkpointPath != nil || resume != nil { fingerprint = try rowsFingerprint(data, heldOut: heldOut) }
            if let resume {
                startEpoch = try restore(resume, rows: fingerprint, optimizer: &optimizer, shuffler: &shuffler)
                guard startEpoch <= options.epochs else {
                    throw TrainingError.badOptions(reason: "the checkpoint is at epoch \(startEpoch), past the \(options.epochs) epochs asked for")
                }
            } else {
                try measureInputScaling(data)
                generator.generator = RandomGenerator(seed: options.seed)
            }
        }
        if let plan { options.onPlan?(plan) }
        if let group { try checkSameStart(group, data: data, options: options, startEpoch: startEpoch, shuffler: shuffler) }
        let batches = (count + batchSize - 1) / batchSize
        var reports: [EpochReport] = []
        var metricLines = resume == nil ? [] : earlierMetricLines(options.metricsPath, through: startEpoch)
        for epoch in startEpoch..<Swift.max(startEpoch, options.epochs) {
            let start = Date()
            let order = shuffler.permutation(count)
            var total: Double = 0
            for batch in 0..<batches {
                let rows = Array(order[(batch * batchSize)..<Swift.min((batch + 1) * batchSize, count)])
                let share = group.map { RowShare(offset: rows.count * $0.rank / $0.size, count: rows.count * ($0.rank + 1) / $0.size - rows.count * $0.rank / $0.size, total: rows.count) }
                let ownRows = share.map { Array(rows[$0.offset..<($0.offset + $0.count)]) } ?? rows
                // Read and transformed inside the step, so that a failure there reaches every process.
                let minibatch = { () throws -> Input in
                    let x = try data.rows(at: ownRows)
                    guard let transform else { return x }
                    shuffler.rowShare = share.map { var alongRows = $0; alongRows.axis = 0; return alongRows }
                    defer { shuffler.rowShare = nil }
                    return transform(x, &shuffler)
                }
                let beta = warmUpWeight(options, epoch: epoch, batch: batch, batches: batches)
                let value: Float
                do {
                    value = epoch > startEpoch && !options.validateEveryStep
                        ? try DistributionValidation.skipping { try step(minibatch, datasetSize: count, beta: beta, optimizer: &optimizer, options: options, share: share) }
                        : try step(minibatch, datasetSize: count, beta: beta, optimizer: &optimizer, options: options, share: share)
                } catch {
                    if let error = error as? ModelError, let placed = dataRowError(error, rows: ownRows) { throw placed }
                    let refusedParameter = switch error {
                    case TrainingError.invalidAfterUpdates: true
                    case let error as ModelError: error.refusesAParameter
                    default: false
                    }
                    guard refusedParameter, let refused = rowRefusedAlone(try minibatch(), datasetSize: count) else { throw error }
                    throw TrainingError.badDataRow(row: ownRows[refused.index], element: [], error: refused.error)
                }
                total += Double(value) * Double(rows.count)
                if let onStep = options.onStep {
                    let elapsed = Date().timeIntervalSince(start)
                    let seen = Double(Swift.min((batch + 1) * batchSize, count))
                    onStep(StepReport(epoch: epoch + 1, batch: batch + 1, batches: batches, runningELBO: Float(total / seen),
                                      imagesPerSecond: seen / Swift.max(elapsed, 1e-9), secondsLeft: elapsed / seen * Double(count) - elapsed))
                }
            }
            let seconds = Date().timeIntervalSince(start)
            let heldOutValue = try together(group) { try heldOut.map { try heldOutELBO($0, batchSize: Swift.max(batchSize, 1000), epoch: epoch + 1) } }
            let report = EpochReport(epoch: epoch + 1, trainELBO: Float(total / Double(count)), heldOutELBO: heldOutValue, seconds: seconds, imagesPerSecond: Double(count) / Swift.max(seconds, 1e-9))
            reports.append(report)
            // The metrics first: a resumed run keeps the lines up to its checkpoint's epoch, so a
            // line written before a stop that came before the checkpoint is written again.
            try together(group) {
                if let path = options.metricsPath, writes {
                    metricLines.append(try sortedJSON(report))
                    try writeMetrics(metricLines, to: path)
                }
                if let path = options.checkpointPath, writes {
                    try checkpoint(epoch: epoch + 1, rows: fingerprint, optimizer: optimizer, shuffler: shuffler, options: options).write(to: path)
                }
            }
            options.onEpoch?(report)
        }
        return reports
    }

    /// The latent sites whose values the compiled guide draws (none with a hand-written guide);
    /// a partly observed site's observed entries are data, so it is not one of them.
    var compiledGuideSites: Set<String> {
        guard handWrittenGuide == nil, let plan else { return [] }
        return Set(plan.guidedSites.map(\.name)).subtracting(plan.partlyObservedNames)
    }

    /// One gradient step on the rows `minibatch` reads (this process's `share` of the minibatch,
    /// when several processes train together); returns the minibatch's ELBO per row.
    func step(_ minibatch: () throws -> Input, datasetSize: Int, beta: Float, optimizer: inout any Optimizer, options: TrainingOptions, share: RowShare?) throws -> Float {
        generator.generator.rowShare = share
        defer { generator.generator.rowShare = nil }
        let step = optimizer.step + 1
        let outcome = Result {
            do {
                return try objectiveGradient(try minibatch(), datasetSize: datasetSize, beta: beta, supervision: options.supervision, particles: options.particles, objective: options.objective, step: step)
            } catch {
                throw TrainingError.diverged(error, step: step, guidedSites: self.compiledGuideSites)
            }
        }
        var (value, gradients) = if let group = options.communicator, let share {
            try combined(outcome, weight: Float(share.count) / Float(share.total), over: group)
        } else {
            try outcome.get()
        }
        if let maximum = options.clipNorm { clipGradientNorm(&gradients, maximum: maximum) }
        let multiplier = options.schedule.multiplier(at: optimizer.step + 1)
        updateParameters { values in optimizer.update(&values, gradients: gradients, rateMultiplier: multiplier) }
        stepsTaken += 1
        return value / Float(datasetSize)
    }

    /// The two namespaces as the optimizer sees them: `model/NAME` and `guide/NAME`.
    var namespaces: [(prefix: String, store: ParameterStore)] { [("model/", parameters), ("guide/", guideParameters)] }

    /// Lends every parameter, keyed `model/NAME` or `guide/NAME`, to `body` for an in-place update.
    func updateParameters(_ body: (inout [String: Tensor]) -> Void) {
        parameters.updateUnconstrained { model in
            guideParameters.updateUnconstrained { guide in
                var all: [String: Tensor] = [:]
                all.reserveCapacity(model.count + guide.count)
                for (name, value) in model { all["model/" + name] = value }
                for (name, value) in guide { all["guide/" + name] = value }
                model = [:]
                guide = [:]
                body(&all)
                for (key, value) in all {
                    if key.hasPrefix("model/") { model[String(key.dropFirst(6))] = value } else { guide[String(key.dropFirst(6))] = value }
                }
            }
        }
    }

    /// Refuses a site outside the data plate that the model sums out, when `part` of the rows
    /// stands for all `count` of them: its sum holds every row's likelihood at once, and on a
    /// part raised to the power of count / part, the log of that sum is biased upward.
    func refuseSummedGlobal(on part: String, standingFor count: Int) throws {
        guard let summed = plan?.sites.first(where: { $0.plate == nil && $0.estimator == .marginalized }) else { return }
        throw CompilerError.unsupportedSite(site: summed.name, location: summed.location, reason: "it lies outside the data plate and is summed out of the model, so its sum holds every row's likelihood at once: on \(part) standing for all \(count) (each likelihood raised to the power of their ratio) the log of that sum is biased upward, and the objective would exceed log p(x); train on every row in each batch, in one process, or have the guide draw it (options.estimators[\"\(summed.name)\"] = .enumerated)")
    }

    /// The training objective on the rows `x` (the ELBO, or the importance-weighted bound, of the
    /// whole data set as estimated from this minibatch) and its gradient with respect to every
    /// unconstrained parameter, keyed `model/NAME` and `guide/NAME`, as the loss
    /// `-objective / datasetSize` sees it. `step` only labels a divergence error.
    public func objectiveGradient(
        _ x: Input, datasetSize: Int, beta: Float = 1, supervision: Float = 0, particles: Int = 1, objective: Objective = .elbo, step: Int = 0
    ) throws -> (value: Float, gradients: [String: Tensor]) {
        if case let .importanceWeighted(k) = objective, k < 1 { throw TrainingError.badOptions(reason: "the importance-weighted bound needs k >= 1, got \(k)") }
        if let ignored = objective.ignoredSetting(beta: beta, particles: particles, supervision: supervision) { throw TrainingError.badOptions(reason: ignored) }
        if plan == nil { try compile(example: x, datasetSize: datasetSize) }
        if x.rowCount < datasetSize { try refuseSummedGlobal(on: "a minibatch of \(x.rowCount) rows", standingFor: datasetSize) }
        let computation = try computation(generator: generator)
        var keys: [String] = [], tracked: [Tensor] = []
        let tape = GradientTape()
        var saved: [(ParameterStore, [String: Tensor])] = []
        defer { for (store, values) in saved { for (name, value) in values { store.setUnconstrained(name, value) } } }
        for (prefix, store) in namespaces {
            let values = store.unconstrained
            saved.append((store, values))
            for name in store.names {
                let watched = tape.watch(values[name]!)
                keys.append(prefix + name)
                tracked.append(watched)
                store.setUnconstrained(name, watched)
            }
        }
        var report: Float = 0
        var lastTraces: (model: Trace, guide: Trace)?
        let loss = try checkingTensorErrors {
            try tape.record { () throws -> Tensor in
                let total: Tensor
                switch objective {
                case .elbo:
                    var sum = Tensor(0)
                    for _ in 0..<Swift.max(particles, 1) {
                        let estimate = try computation.estimate(x, datasetSize: datasetSize, beta: beta, supervision: supervision, baselines: &baselines)
                        sum = sum + estimate.objective
                        report += estimate.value
                        lastTraces = (estimate.modelTrace, estimate.guideTrace)
                    }
                    report /= Float(Swift.max(particles, 1))
                    total = sum / Float(Swift.max(particles, 1))
                case let .importanceWeighted(k):
                    let bound = try importanceWeightedBound(x, k: k, computation: computation)
                    report = bound.scalar * Float(datasetSize) / Float(x.rowCount)
                    total = bound * (Float(datasetSize) / Float(x.rowCount))
                }
                return -total / Float(datasetSize)
            }
        }
        guard report.isFinite else {
            throw TrainingError.nonFiniteLoss(step: step, site: divergentSite(lastTraces))
        }
        var gradients: [String: Tensor] = [:]
        for (key, gradient) in zip(keys, tape.gradient(of: loss, withRespectTo: tracked)) {
            guard gradient.isFinite else { throw TrainingError.nonFiniteGradient(step: step, parameter: key) }
            gradients[key] = gradient
        }
        return (report, gradients)
    }

    /// `sum_n log (1/k) sum_i w_{i,n}` over the rows, from k independent draws of the guide. For
    /// the values the guide draws by the score function, through which no gradient passes, the
    /// gradient adds VIMCO's score term (Mnih & Rezende, 2016): `sum_i (L - L_-i) grad log q(z_i)`,
    /// with `L_-i` the bound with `w_i` replaced by the geometric mean of the other weights,
    /// which does not depend on z_i; the value is the bound's alone.
    func importanceWeightedBound(_ x: Input, k: Int, computation: ELBOComputation<Input>) throws -> Tensor {
        try computation.requireLocalLatents(figure: "the importance-weighted bound", whole: "the ELBO (objective .elbo)")
        let draws = try (0..<Swift.max(k, 1)).map { draw in try computation.logWeightsAndScores(x, checkingDensities: draw == 0) }
        let weights = Tensor.stack(draws.map(\.weights))
        let bound = (weights.logSumExp(axis: 0) - Float(Foundation.log(Double(draws.count)))).sum()
        let scores = draws.compactMap(\.scores)
        guard !scores.isEmpty, scores.count == draws.count else { return bound }
        let surrogate = (Tensor.stack(scores) * leaveOneOutSignals(weights.detached)).sum()
        return bound + surrogate - surrogate.detached
    }

    /// `L_n - L_n,-i` for each draw i (axis 0) and row n of the log-weights `w`, where
    /// `L_n = log (1/k) sum_j exp w_jn` and `L_n,-i` is the same with `w_in` replaced by the mean
    /// of the other draws' log-weights; `L_n` itself for a single draw, which has no others.
    func leaveOneOutSignals(_ w: Tensor) -> Tensor {
        let k = w.shape[0], rows = w.count / Swift.max(k, 1)
        let values = w.scalars.map(Double.init)
        func bound(_ terms: [Double]) -> Double {
            let top = terms.max() ?? -.infinity
            guard top.isFinite else { return top }
            return top + Foundation.log(terms.map { Foundation.exp($0 - top) }.reduce(0, +) / Double(terms.count))
        }
        var signals = [Float](repeating: 0, count: values.count)
        for row in 0..<rows {
            let column = (0..<k).map { values[$0 * rows + row] }
            let whole = bound(column)
            for i in 0..<k {
                var others = column
                others[i] = k > 1 ? (column.reduce(0, +) - column[i]) / Double(k - 1) : -.infinity
                let signal = k > 1 ? whole - bound(others) : whole
                signals[i * rows + row] = signal.isFinite ? Float(signal) : 0
            }
        }
        return Tensor(shape: w.shape, scalars: signals)
    }

    /// The ELBO of all the rows of `x`, per row, without gradients or effects on training; a
    /// non-finite value is an error naming the site. Each batch estimates the ELBO of all the
    /// rows (its own rows' terms scaled by `count / rows`), as a training step does, so that a
    /// global latent's terms count once, as in `latent eval`; the estimates are averaged,
    /// weighted by the batches' shares of the rows.
    func heldOutELBO(_ x: any RowSource<Input>, batchSize: Int, epoch: Int) throws -> Float {
        let count = x.rowCount
        var total: Double = 0
        var start = 0
        while start < count {
            let end = Swift.min(start + batchSize, count)
            let rows = try x.rows(at: Array(start..<end))
            // A parameter that the last steps took out of its domain is divergence there.
            let value: Float
            do { value = try elbo(rows, datasetSize: count) } catch {
                let diverged = TrainingError.diverged(error, step: stepsTaken, guidedSites: compiledGuideSites)
                guard case TrainingError.invalidAfterUpdates = diverged, let refused = rowRefusedAlone(rows, datasetSize: count) else { throw diverged }
                throw TrainingError.badHeldOutRow(row: start + refused.index, error: refused.error)
            }
            guard value.isFinite else {
                let traces = try? withoutGradient { () -> (model: Trace, guide: Trace) in
                    let (guide, model) = try computation(generator: evaluationGenerator(1)).traces(rows, datasetSize: count)
                    return (model, guide)
                }
                throw TrainingError.nonFiniteHeldOut(epoch: epoch, site: divergentSite(traces))
            }
            total += Double(value) * Double(end - start) / Double(count)
            start = end
        }
        return Float(total / Double(count))
    }

    func warmUpWeight(_ options: TrainingOptions, epoch: Int, batch: Int, batches: Int) -> Float {
        guard options.warmUpEpochs > 0 else { return options.beta }
        let progress = (Float(epoch) + Float(batch + 1) / Float(batches)) / Float(options.warmUpEpochs)
        return options.beta * Swift.min(progress, 1)
    }

    /// Where the ELBO became non-finite, as a phrase for a message: a parameter that is not
    /// finite, else the first site (with its line) whose guide or model log-probability (or KL
    /// term) is not finite, else the site whose terms are largest in size (their sum overflowed).
    func divergentSite(_ traces: (model: Trace, guide: Trace)?) -> String {
        for (prefix, store) in namespaces {
            if let name = store.names.first(where: { !(store.unconstrained[$0]?.isFinite ?? true) }) { return "parameter '\(prefix)\(name)', which is not finite" }
        }
        guard let (model, guide) = traces else { return "no site (the model did not run)" }
        let located = { (site: Site) in "site '\(site.name)' at \(self.plan?[site.name]?.location ?? site.location)" }
        for trace in [guide, model] {
            if let site = trace.sites.first(where: { !($0.logProb?.isFinite ?? true) }) { return located(site) }
        }
        for site in model.latentSites {
            guard let p = site.distribution, let q = guide[site.name]?.distribution, let kl = try? withoutGradient({ try klDivergence(q, p) }) else { continue }
            if !kl.isFinite { return "the KL term of " + located(site) }
        }
        let largest = model.sites.compactMap { site in site.logProb.map { (site, abs($0).max().scalar) } }.max { $0.1 < $1.1 }
        return largest.map { located($0.0) + ", whose terms are too large to add up" } ?? "no site found"
    }

    func writeMetrics(_ lines: [String], to path: String) throws {
        do {
            try AtomicFile.write(Data(lines.map { $0 + "\n" }.joined().utf8), to: path)
        } catch {
            throw CheckpointError.unwritable(path: path, reason: describeFileError(error))
        }
    }

    /// The lines of the metrics log at `path` for epochs up to `epoch` (a resumed run's history).
    func earlierMetricLines(_ path: String?, through epoch: Int) -> [String] {
        EpochReport.logLines(path).filter { $0.report.epoch <= epoch }.map(\.line)
    }
}

extension EpochReport {
    /// The reports in the metrics log `fit` writes at `path`, in order (none when it is missing).
    public static func log(at path: String) -> [EpochReport] { logLines(path).map(\.report) }

    /// Each readable line of the metrics log at `path` with its report; unreadable lines are left out.
    static func logLines(_ path: String?) -> [(line: String, report: EpochReport)] {
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONDecoder().decode(EpochReport.self, from: Data(line.utf8))).map { (String(line), $0) }
        }
    }
}

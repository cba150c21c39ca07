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
/// The model takes a minibatch of rows (a `Tensor`, or a `Table` of columns) and the number of
/// rows of the whole data set, and declares its data plate with
/// `plate("data", size: datasetSize, subsample: x)`.
///
/// ```swift
/// let vi = Amortized(vae)
/// let history = try vi.fit(trainImages, options: TrainingOptions(epochs: 4))
/// let q = try vi.posterior(testImages)["z"]
/// ```
public final class Amortized<Input: RowData> {
    public let model: Model<Input, Int>
    public let options: CompilerOptions
    /// The model's parameters (`param` and `module` sites of the model).
    public let parameters = ParameterStore()
    /// The guide's parameters (its encoders and global heads), a namespace of their own.
    public let guideParameters = ParameterStore()
    /// The compiled plan, once `compile` (or `fit`) has seen data.
    public private(set) var plan: GuidePlan?
    private(set) var guide: Model<Input, Int>?
    let handWrittenGuide: Model<Input, Int>?
    /// What the encoders standardize their input with (measured on the training data).
    private(set) var scaling = InputScaling(features: 0)
    /// The seed of training draws; evaluation draws from its own generators, so it changes
    /// nothing that training will do.
    let seed: UInt64
    /// Draws of the guide and the model during training.
    let generator: GeneratorBox
    var baselines: [String: Float] = [:]
    /// Steps taken; the input scaling is measured again by `fit` only before the first.
    var stepsTaken = 0

    /// Prepares inference for `model`; the guide is compiled on first sight of data.
    public init(_ model: Model<Input, Int>, options: CompilerOptions = CompilerOptions(), seed: UInt64 = 0) {
        self.model = model
        self.options = options
        handWrittenGuide = nil
        self.seed = seed
        generator = GeneratorBox(RandomGenerator(seed: seed))
    }

    /// Generic stochastic variational inference with a guide the user wrote (a model over the
    /// same inputs whose latent sites are the model's); finite-support model sites the guide
    /// leaves out are summed out of the model exactly.
    public init(_ model: Model<Input, Int>, guide: Model<Input, Int>, estimators: [String: Estimator] = [:], seed: UInt64 = 0) {
        self.model = model
        var options = CompilerOptions()
        options.estimators = estimators
        self.options = options
        handWrittenGuide = guide
        self.seed = seed
        generator = GeneratorBox(RandomGenerator(seed: seed))
    }

    /// Traces the model on `example` rows and derives the guide; returns the plan. The guide
    /// is run once through the ELBO, so a plan that cannot be carried out is an error here.
    @discardableResult
    public func compile(example: Input, datasetSize: Int) throws -> GuidePlan {
        guard example.rowCount > 0 else { throw TrainingError.badOptions(reason: "the example to compile on has no rows; give at least one row of the data") }
        let prototype = try model.trace(example, datasetSize, parameters: parameters, seed: 0)
        try prototype.checkObservationsAreCountedOnce()
        try checkGlobalShapes(prototype, example: example, datasetSize: datasetSize)
        try checkValuesFollowTheRows(prototype, example: example, datasetSize: datasetSize)
        if handWrittenGuide == nil { try checkTheWatchedRuns(example: example, datasetSize: datasetSize) }
        // Each site summed over its support is checked for reads as a number before a run sums it.
        var checked: Set<String> = []
        func checkNumberReads(of sites: Set<String>) throws {
            try model.checkNumberReads(of: prototype.latentSites.map(\.name).filter { sites.contains($0) && !checked.contains($0) }, example, datasetSize, parameters: parameters)
            checked.formUnion(sites)
        }
        let summedOut = handWrittenGuide == nil ? GuideCompiler.summedOutSites(prototype, options: options) : []
        try checkNumberReads(of: summedOut)
        if let handWrittenGuide {
            let guideTrace = try handWrittenGuide.trace(example, datasetSize, parameters: guideParameters, seed: 0)
            let missing = Set(prototype.latentSites.map(\.name)).subtracting(guideTrace.latentSites.map(\.name))
            try checkNumberReads(of: missing)
            let dependents = try dependentsOfSummedOut(missing, prototype: prototype, example: example, datasetSize: datasetSize)
            plan = try HandWrittenGuide.plan(guideTrace: guideTrace, prototype: prototype, model: model.name, forced: options.estimators, dependents: dependents)
            guide = handWrittenGuide
        } else {
            let dependents = try dependentsOfSummedOut(summedOut, prototype: prototype, example: example, datasetSize: datasetSize)
            let compiled = try GuideCompiler.plan(prototype: prototype, model: model.name, options: options, summedOut: summedOut, dependents: dependents)
            let input = try checkingTensorErrors { example.encoderInput(columns: options.encoderColumns) }
            scaling = InputScaling(features: input.shape.last ?? 0)
            if options.standardizesInputs { scaling.measure(input) }
            let program = AmortizedGuide<Input>(plan: compiled, options: options, featureCount: input.shape.last ?? 0, scaling: scaling)
            plan = try program.countedPlan()
            guide = try program.program()
        }
        for site in prototype.observedSites {
            let fromEnd = site.eventShape.count - (site.dataPlate?.dim ?? 0)
            let holdsRows = fromEnd >= 1 && fromEnd <= site.value.rank && site.value.shape[site.value.rank - fromEnd] == example.rowCount
            plan!.observedSites[site.name] = .some(holdsRows ? fromEnd : nil)
        }
        let summed = Set(plan!.sites.filter { $0.estimator == .enumerated || $0.estimator == .marginalized }.map(\.name))
        try checkNumberReads(of: summed)
        try model.checkSummedValuesStayApart(summed, prototype: prototype, example, datasetSize, parameters: parameters)
        if let handWrittenGuide {
            try handWrittenGuide.checkNumberReads(of: prototype.latentSites.map(\.name).filter(summed.contains), example, datasetSize, parameters: guideParameters)
        }
        if handWrittenGuide != nil {
            try withoutGradient { try computation(generator: evaluationGenerator(0)).checkGuideChainReads(example, datasetSize: datasetSize) }
        }
        var throwaway: [String: Float] = [:]
        _ = try withoutGradient { try computation(generator: evaluationGenerator(0)).estimate(example, datasetSize: datasetSize, beta: 1, baselines: &throwaway) }
        return plan!
    }

    /// The sites whose prior, run with `summedOut` enumerated, varies along their dimensions.
    /// The other latent sites keep their values in `prototype`, as a guide's draws do, which do
    /// not vary with the model's sums. Refuses a read of a site a Markov chain has reused.
    func dependentsOfSummedOut(_ summedOut: Set<String>, prototype: Trace, example: Input, datasetSize: Int) throws -> Set<String> {
        guard !summedOut.isEmpty else { return [] }
        let guided = Set(prototype.latentSites.map(\.name)).subtracting(summedOut)
        let trace = try checkChainReads(firstDim: -prototype.maximumBatchRank - 1, sites: summedOut) { enumerate in
            let recorder = TraceHandler()
            try model.run(example, datasetSize, handlers: [recorder, parameters, SeedHandler(seed: 0), enumerate, ReplayHandler(prototype, sites: guided)])
            return recorder.trace
        }
        // A mask made from a summed site varies along its dimension too: the site's terms then
        // depend on the summed value, though its prior does not (a closed-form KL under such a
        // mask put an ELBO 0.29 nats above log p(x)).
        return Set(trace.latentSites.filter { site in
            guard !summedOut.contains(site.name), let batch = site.distribution?.batchShape else { return false }
            return site.enumeratedVariables.contains { dim, variable in
                summedOut.contains(variable) && (batch.count >= -dim && batch[batch.count + dim] > 1
                    || site.mask.map { $0.rank >= -dim && $0.shape[$0.rank + dim] > 1 } ?? false)
            }
        }.map(\.name))
    }

    /// Measures the encoders' input scaling on `data` (all the training rows), unless training
    /// has begun or standardization is off.
    func measureInputScaling(_ data: some RowSource<Input>) throws {
        guard options.standardizesInputs, handWrittenGuide == nil, stepsTaken == 0 else { return }
        try scaling.measure(rowCount: data.rowCount) { range in try data.rows(at: Array(range)).encoderInput(columns: options.encoderColumns) }
    }

    func computation(generator: GeneratorBox) throws -> ELBOComputation<Input> {
        guard let plan, let guide else { throw TrainingError.notCompiled }
        return ELBOComputation(model: model, guide: guide, plan: plan, modelParameters: parameters, guideParameters: guideParameters, generator: generator)
    }

    /// A generator for evaluation `call` with the caller's `seed`: a stream of its own, so
    /// evaluating never moves training's generator.
    func evaluationGenerator(_ call: UInt64, seed evaluationSeed: UInt64 = 0) -> GeneratorBox {
        GeneratorBox(RandomGenerator(seed: seed &+ 0x0E7A_1CA7_E000_0000 &+ (call << 32) &+ evaluationSeed))
    }

    /// The ELBO of `rows` (summed over them, with the data plate scaled by
    /// `datasetSize / rows.rowCount`), averaged over `particles` draws from the generator of
    /// `seed`; no gradient is recorded and training's state is left as it is.
    public func elbo(_ rows: Input, datasetSize: Int? = nil, particles: Int = 1, seed: UInt64 = 0) throws -> Float {
        guard particles >= 1 else { throw TrainingError.badOptions(reason: "the ELBO needs at least 1 particle, got \(particles)") }
        if plan == nil { try compile(example: rows, datasetSize: datasetSize ?? rows.rowCount) }
        if let datasetSize, rows.rowCount < datasetSize { try refuseSummedGlobal(on: "\(rows.rowCount) rows", standingFor: datasetSize) }
        let computation = try computation(generator: evaluationGenerator(1, seed: seed))
        var throwaway = baselines
        return try withoutGradient {
            var total: Double = 0
            for particle in 0..<particles {
                total += Double(try computation.estimate(rows, datasetSize: datasetSize ?? rows.rowCount, beta: 1, baselines: &throwaway, checkingMaskedReads: particle == 0).value)
            }
            return Float(total / Double(particles))
        }
    }

    /// The guide's distribution at each guided latent site for `rows` (the learned posterior).
    /// A site whose guide depends on an upstream latent is given at one draw of that latent.
    /// A partly observed site's known values are kept, as in training: later heads are fed
    /// them, and a categorical or Bernoulli site's posterior is certain of them (another
    /// family's is the guide's, which stands for the rows whose value is unknown). Rows that
    /// carry no labels (a table without the site's columns) have none to keep.
    public func posterior(_ rows: Input) throws -> [String: any Distribution] {
        if plan == nil { try compile(example: rows, datasetSize: rows.rowCount) }
        guard let guide else { throw TrainingError.notCompiled }
        let recorder = TraceHandler()
        let known = try knownValues(rows)
        try withoutGradient { try guide.run(rows, rows.rowCount, handlers: [recorder, guideParameters] + (known.map { [$0] } ?? []) + [SeedHandler(evaluationGenerator(2))]) }
        var result: [String: any Distribution] = [:]
        for site in recorder.trace.latentSites {
            result[site.name] = site.distribution
            guard let observation = known?.observations[site.name] else { continue }
            if let q = site.distribution as? Categorical {
                let classes = q.logits.shape.last ?? 1
                let label = Tensor.oneHot(clamp(select(observation.mask, observation.value, Tensor(0)), min: 0, max: Float(classes - 1)), classes: classes)
                result[site.name] = Categorical(probs: select(observation.mask.unsqueezed(axis: -1), label, q.probs))
            } else if let q = site.distribution as? Bernoulli {
                result[site.name] = Bernoulli(probs: select(observation.mask, observation.value, q.probs))
            }
        }
        return result
    }

    /// An observed value outside its support placed in the rows given to training, `rows` being
    /// the minibatch's (the error's index counts in their shuffled order); nil for other errors.
    func dataRowError(_ error: ModelError, rows: [Int]) -> TrainingError? {
        guard case let .atSite(site, _, underlying) = error, case let .valueOutsideSupport(_, index, _, _)? = underlying as? DistributionError,
              let fromEnd = plan?.observedSites[site] ?? nil, fromEnd >= 1, fromEnd <= index.count, rows.indices.contains(index[index.count - fromEnd]) else { return nil }
        var element = index
        let row = rows[element.remove(at: index.count - fromEnd)]
        return .badDataRow(row: row, element: element, error: error)
    }

    /// The handler that keeps the known values of the partly observed sites in a guide run on
    /// `rows`, as training's runs do; nil when the model has none, or when the model cannot run
    /// on `rows` (new rows without the label columns, which the guide does not read).
    func knownValues(_ rows: Input) throws -> PartialObservationHandler? {
        guard let plan, !plan.partlyObservedNames.isEmpty else { return nil }
        return (try? computation(generator: evaluationGenerator(0)).partialObservations(rows, datasetSize: rows.rowCount)).map(PartialObservationHandler.init)
    }
}

/// Training stopped for a reason the user must see.
public enum TrainingError: Error, CustomStringConvertible {
    /// A parameter refused for one row's values, `inRow` naming the row.
    static func refusedRow(_ error: ModelError, _ inRow: String) -> String {
        "\(error) when run on \(inRow) alone, and not on other rows: the model makes this parameter from that row's values, which it cannot take; correct or leave out the row, or have the model accept such values"
    }

    /// `error` as divergence at `step` when it is a refused parameter, a non-finite value, or a
    /// value outside the support drawn for one of `guidedSites` (a compiled guide's, which
    /// draws inside the site's support until updates overflow or underflow it), after at least
    /// one update; otherwise `error` itself.
    static func diverged(_ error: any Error, step: Int, guidedSites: Set<String>) -> any Error {
        guard step > 1, let error = error as? ModelError, case let .atSite(site, _, underlying) = error,
              let refused = underlying as? DistributionError else { return error }
        switch refused {
        case .invalidParameter: return TrainingError.invalidAfterUpdates(step: step, error: error)
        case let .valueOutsideSupport(_, _, value, _) where !value.isFinite || guidedSites.contains(site):
            return TrainingError.invalidAfterUpdates(step: step, error: error)
        default: return error
        }
    }

    case notCompiled
    /// The objective is not finite; `site` says where ("site 'x' at File.swift:12", or a parameter).
    case nonFiniteLoss(step: Int, site: String)
    case nonFiniteGradient(step: Int, parameter: String)
    case nonFiniteHeldOut(epoch: Int, site: String)
    /// A site refused its parameters or value after the parameters had been updated: a
    /// parameter that overflowed or underflowed, not a mistake in the model or the data.
    case invalidAfterUpdates(step: Int, error: ModelError)
    /// An observed value outside its distribution's support, in row `row` of the rows given to
    /// training (counted from 0), where the minibatch's shuffled order hid it; `source`, when
    /// given, names the file whose row (counted from 0) `row` is.
    case badDataRow(row: Int, element: [Int], error: ModelError, source: String? = nil)
    /// A parameter the model makes from held-out row `row` (counted from 0 in the held-out
    /// rows) refused, where the other rows' are not; `source` as for `badDataRow`.
    case badHeldOutRow(row: Int, error: ModelError, source: String? = nil)
    case badData(reason: String)
    case badOptions(reason: String)

    public var description: String {
        switch self {
        case .notCompiled: return "the guide is not compiled yet: call compile(example:datasetSize:) or fit first"
        case let .nonFiniteLoss(step, site) where step == 1:
            return "the objective is not finite at the first step, before training has changed anything, at \(site); check the model: something it makes from the data or from a parameter's initial value is not finite"
        case let .nonFiniteLoss(step, site): return "training diverged at step \(step): the objective is not finite at \(site); lower the learning rate or check the model"
        case let .nonFiniteGradient(step, parameter): return "training diverged at step \(step): the gradient of parameter '\(parameter)' is not finite; lower the learning rate or clip gradients"
        case let .nonFiniteHeldOut(epoch, site): return "training diverged by epoch \(epoch): the held-out ELBO is not finite at \(site); lower the learning rate or check the model"
        case let .invalidAfterUpdates(step, error): return "training diverged at step \(step): \(error); lower the learning rate or check the model"
        case let .badDataRow(row, element, error, source):
            let inRow = source.map { "data row \(row + 1) of \($0) (counting from 1, without a header)" } ?? "row \(row) of the training data (counting from 0)"
            if error.refusesAParameter { return Self.refusedRow(error, inRow) }
            guard case let .atSite(site, location, underlying) = error, case let .valueOutsideSupport(distribution, _, value, support)? = underlying as? DistributionError else {
                return "\(error), in \(inRow)"
            }
            let place = element.isEmpty ? "" : " at index \(element)"
            return "site '\(site)' at \(location): \(distribution): value \(value)\(place) of \(inRow) is outside the support (\(support))"
        case let .badHeldOutRow(row, error, source):
            return Self.refusedRow(error, source.map { "held-out data row \(row + 1) of \($0) (counting from 1, without a header)" } ?? "row \(row) of the held-out data (counting from 0)")
        case let .badData(reason): return "cannot train on these data: \(reason)"
        case let .badOptions(reason): return "bad training options: \(reason)"
        }
    }
}

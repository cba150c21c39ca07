import Foundation
import Distributions
import Inference
import NN
import Optim
import PPL
import TensorCore
import XCTest

/// The training loop: learning a mixture, resuming from checkpoints, stopping on divergence.
final class TrainingTests: XCTestCase {
    /// 600 points from three well-separated diagonal Gaussians (fixed seed).
    func mixtureData() -> Tensor {
        var generator = RandomGenerator(seed: 42)
        let components = Tensor.randomCategorical(probabilities: Tensor([0.5, 0.3, 0.2]).expanded(to: [600, 3]), using: &generator)
        let means = Tensor([[0, 0], [4, 1], [-1, 4]])[components]
        return means + 0.6 * Tensor.randomNormal([600, 2], using: &generator)
    }

    let gmm = Model("gmm") { (x: Tensor, n: Int) in
        let weights = param("weights", Tensor.ones([3]) / 3, constraint: .simplex)
        let locs = param("locs", Tensor([[1, 1], [3, 0], [0, 3]]))
        let scales = param("scales", Tensor.ones([3, 2]), constraint: .positive)
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Categorical(probs: weights)
            observe("x", x) ~ Normal(locs[z], scales[z]).independent(1)
        }
    }

    func testAmortizedPosteriorApproachesTheExactOne() throws {
        let data = mixtureData()
        let vi = Amortized(gmm, options: CompilerOptions(hiddenSizes: [32], activation: .tanh))
        let reports = try vi.fit(data, options: TrainingOptions(epochs: 40, batchSize: 100, optimizer: .adam(learningRate: 0.02)))
        XCTAssertGreaterThan(reports.last!.trainELBO, reports.first!.trainELBO)
        let exact = try gmm.exactPosterior(data, 600, site: "z", parameters: vi.parameters)
        let q = (try vi.posterior(data)["z"] as! Categorical).probs
        let kl = (q * (log(q) - log(exact))).sum(axis: 1).mean().scalar
        XCTAssertLessThan(kl, 0.01)
        let marginal = try gmm.logMarginalLikelihood(data, 600, parameters: vi.parameters).scalar / 600
        XCTAssertEqual(reports.last!.trainELBO, marginal, accuracy: 0.05, "the ELBO is tight when q matches the posterior")
    }

    func testResumingFromACheckpointGivesTheSameParameters() throws {
        let data = mixtureData().slice(axis: 0, 0..<200)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-resume-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("gmm.ckpt").path
        var options = TrainingOptions(epochs: 4, batchSize: 64, optimizer: .adam(learningRate: 0.01))
        options.seed = 7
        let straight = Amortized(gmm, options: CompilerOptions(hiddenSizes: [8]))
        _ = try straight.fit(data, options: options)

        var firstHalf = options
        firstHalf.epochs = 2
        firstHalf.checkpointPath = path
        let interrupted = Amortized(gmm, options: CompilerOptions(hiddenSizes: [8]))
        _ = try interrupted.fit(data, options: firstHalf)
        let resumed = Amortized(gmm, options: CompilerOptions(hiddenSizes: [8]))
        _ = try resumed.fit(data, options: options, resume: try Checkpoint.read(from: path))
        for name in straight.parameters.names {
            XCTAssertEqual(straight.parameters.unconstrained[name]!.scalars, resumed.parameters.unconstrained[name]!.scalars, name)
        }
    }

    /// Every kernel splits work so that each number is computed by one thread in a fixed order:
    /// training on 1 and on 2 threads ends with the same bits (here with matrices, elementwise
    /// passes and optimizer updates large enough to be split).
    func testTrainingDoesNotDependOnTheThreadCount() throws {
        let vae = Model("vae") { (x: Tensor, n: Int) in
            let decoder = module("decoder", MLP([8, 256, 300], activation: .relu))
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1).expanded(to: [8]).independent(1)
                observe("x", x) ~ Bernoulli(logits: decoder(z)).independent(1)
            }
        }
        var generator = RandomGenerator(seed: 4)
        let data = Tensor.randomUniform([512, 300], using: &generator).mapped { $0 > 0.7 ? 1 : 0 }
        let saved = ComputeThreads.count
        defer { ComputeThreads.count = saved }
        var results: [[String: Tensor]] = []
        for threads in [1, 2] {
            ComputeThreads.count = threads
            let vi = Amortized(vae, options: CompilerOptions(hiddenSizes: [256]), seed: 1)
            _ = try vi.fit(data, options: TrainingOptions(epochs: 2, batchSize: 256, optimizer: .adam(learningRate: 1e-3)))
            results.append(vi.parameters.unconstrained.merging(vi.guideParameters.unconstrained.map { ("guide/" + $0.key, $0.value) }) { a, _ in a })
        }
        XCTAssertEqual(results[0].count, results[1].count)
        for (name, value) in results[0] { XCTAssertEqual(value.scalars, results[1][name]?.scalars, name) }
    }

    func testCheckpointRoundTripAndCorruption() throws {
        let checkpoint = Checkpoint(
            modelParameters: ["a": Tensor([[1, 2], [3, 4]]), "b": Tensor([5])], guideParameters: ["c": Tensor([6, 7])], guideConstants: ["input mean": Tensor([0.5])],
            optimizerState: ["a#0": Tensor([0.5, 0.25, 0, 1]).reshaped(to: [2, 2]), "step": Tensor(3)],
            metadata: ["model": "m", "epoch": "2"])
        let bytes = try checkpoint.encoded()
        XCTAssertEqual(try Checkpoint(decoding: bytes, source: "c"), checkpoint)
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        XCTAssertThrowsError(try Checkpoint(decoding: flipped, source: "c")) { error in
            XCTAssertEqual("\(error)", "checkpoint c is corrupt: checksum mismatch: the file is truncated or damaged")
        }
        XCTAssertThrowsError(try Checkpoint(decoding: bytes.prefix(bytes.count - 9), source: "c")) { error in
            XCTAssertEqual("\(error)", "checkpoint c is corrupt: checksum mismatch: the file is truncated or damaged")
        }
        XCTAssertThrowsError(try Checkpoint(decoding: Data("not a checkpoint at all".utf8), source: "c")) { error in
            XCTAssertEqual("\(error)", "checkpoint c is corrupt: not a Latent checkpoint (bad magic number)")
        }
        var future = bytes
        future[8] = 9
        XCTAssertThrowsError(try Checkpoint(decoding: future, source: "c")) { error in
            XCTAssertEqual("\(error)", "checkpoint c has format version 9; this build reads version 2")
        }
        XCTAssertThrowsError(try Checkpoint.read(from: "/nonexistent/latent.ckpt")) { error in
            XCTAssertEqual("\(error)", "checkpoint /nonexistent/latent.ckpt does not exist")
        }
    }

    func testDivergenceStopsNamingTheStepAndTheSite() throws {
        DistributionValidation.isEnabled = false
        defer { DistributionValidation.isEnabled = true }
        let broken = Model("broken") { (x: Tensor, n: Int) in
            let spread = param("spread", Tensor(-1))
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1)
                observe("x", x) ~ Normal(z, spread)
            }
        }
        let vi = Amortized(broken, options: CompilerOptions(hiddenSizes: [4]))
        XCTAssertThrowsError(try vi.fit(Tensor([0.5, 1, 2, 3]), options: TrainingOptions(epochs: 1, batchSize: 4))) { error in
            XCTAssertEqual("\(error)", "the objective is not finite at the first step, before training has changed anything, at site 'x' at InferenceTests/TrainingTests.swift:\(#line - 5); check the model: something it makes from the data or from a parameter's initial value is not finite")
        }
    }

    /// A parameter that the last step of an epoch takes out of its domain is refused first by
    /// the held-out ELBO: that is divergence too, named with the step, not a bare refusal.
    func testDivergenceAtAnEpochsLastStepNamesTheStep() throws {
        let model = Model("spread") { (x: Tensor, n: Int) in
            let spread = param("spread", Tensor(1), constraint: .positive)
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1)
                observe("x", x) ~ Normal(z, spread)
            }
        }
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [4]))
        var options = TrainingOptions(epochs: 1, batchSize: 4)
        options.onStep = { report in if report.batch == 2 { vi.parameters.setUnconstrained("spread", Tensor(.nan)) } }
        XCTAssertThrowsError(try vi.fit(Tensor([0.5, 1, 2, 3, -1, 0, 1.5, 2.5]), heldOut: Tensor([0.2, 0.4, 1.1, 2]), options: options)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("training diverged at step 2: site 'x' at InferenceTests/TrainingTests.swift:"), message)
            XCTAssertTrue(message.hasSuffix("; lower the learning rate or check the model"), message)
        }
    }

    /// A data value outside its support names its row among the rows given to training (the
    /// index in the error counted in a shuffled minibatch: a helper's 2 at row 250 read as
    /// [30, 5], [13, 5] and [9, 5] under three seeds).
    func testDataOutsideTheSupportNamesItsRow() throws {
        let model = Model("bits") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1)
                observe("x", x) ~ Bernoulli(logits: z.unsqueezed(axis: -1).expanded(to: [x.shape[0], 3])).independent(1)
            }
        }
        var bits = (0..<60).map { Float(($0 * 7 / 3) % 2) }
        bits[3 * 17 + 2] = 2
        for seed in [UInt64(0), 1, 2] {
            XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4]), seed: seed).fit(Tensor(shape: [20, 3], scalars: bits), options: TrainingOptions(epochs: 1, batchSize: 8))) { error in
                XCTAssertTrue("\(error)".hasSuffix("Bernoulli: value 2.0 at index [2] of row 17 of the training data (counting from 0) is outside the support (boolean {0, 1})"), "\(error)")
            }
        }
        // In the first minibatch's rows, which the compiler reads: the model is run on each
        // row alone to find it.
        bits[3 * 17 + 2] = 1
        bits[3 * 3 + 1] = 2
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(Tensor(shape: [20, 3], scalars: bits), options: TrainingOptions(epochs: 1, batchSize: 8))) { error in
            XCTAssertTrue("\(error)".hasSuffix("Bernoulli: value 2.0 at index [1] of row 3 of the training data (counting from 0) is outside the support (boolean {0, 1})"), "\(error)")
        }
    }

    /// A guide's draw that updates took to 0 (exp underflowed) for a positive latent was
    /// reported as the Gamma refusing 0, which reads as a mistake in the model: a helper's
    /// Gamma-Poisson model under plain SGD at a learning rate of 2. A compiled guide's draws lie
    /// in the site's support by construction, so any refused draw after the first step is
    /// divergence, named with the step. Data outside the support stays the data's error.
    func testAGuideDrawUpdatedOutOfItsSupportIsDivergence() throws {
        let model = Model("gamma poisson") { (x: Tensor, n: Int) in
            let rate = latent("rate") ~ Gamma(concentration: Tensor(2), rate: Tensor(0.5))
            plate("data", size: n, subsample: x) { observe("x", x) ~ Poisson(rate: rate) }
        }
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [4]))
        var options = TrainingOptions(epochs: 1, batchSize: 2)
        options.onStep = { report in
            guard report.batch == 1, let name = vi.guideParameters.names.first(where: { $0.contains("rate") }) else { return }
            vi.guideParameters.setUnconstrained(name, Tensor([-200, -30]))
        }
        XCTAssertThrowsError(try vi.fit(Tensor([3, 4, 2, 5]), options: options)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("training diverged at step 2: site 'rate' at InferenceTests/TrainingTests.swift:\(#line - 11)"), message)
            XCTAssertTrue(message.hasSuffix("; lower the learning rate or check the model"), message)
        }
        // A negative count, whichever minibatch holds it, is the data's error, not divergence;
        // so is a label outside its support at a partly observed site, though the guide draws
        // the entries that are not observed (a reviewer's case: seeds 2 and 3 read "diverged").
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(Tensor([3, 4, 2, -5]), options: TrainingOptions(epochs: 1, batchSize: 2))) { error in
            XCTAssertFalse("\(error)".contains("diverged"), "\(error)")
        }
        let labels = try Table(["x": Tensor([-1.9, 2.2, 0.1, -2.3, 1.8, 0.4]), "label": Tensor([0, 2, 1, 0, 7, 1]), "known": Tensor([1, 1, 0, 1, 1, 0])])
        let partly = Model("partly labelled") { (d: Table, n: Int) in
            plate("data", size: n, subsample: d) {
                let z = observe("z", d["label"], where: d["known"]) ~ Categorical(probs: Tensor([0.3, 0.4, 0.3]))
                observe("x", d["x"]) ~ Normal(Tensor([-2, 0, 2])[z], 1)
            }
        }
        for seed in [UInt64(1), 2, 3] {
            var labelOptions = TrainingOptions(epochs: 1, batchSize: 2)
            labelOptions.seed = seed
            XCTAssertThrowsError(try Amortized(partly, options: CompilerOptions(hiddenSizes: [4])).fit(labels, options: labelOptions)) { error in
                XCTAssertTrue("\(error)".contains("Categorical: value 7.0") && !"\(error)".contains("diverged"), "seed \(seed): \(error)")
            }
        }
    }

    func testOptimizersReduceAQuadratic() {
        let choices: [OptimizerChoice] = [.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true), .adagrad(learningRate: 0.5), .rmsprop(learningRate: 0.05), .adam(learningRate: 0.1), .clippedAdam(learningRate: 0.1, clip: 1, decay: 0.999)]
        for choice in choices {
            var optimizer = choice.make()
            var parameters = ["w": Tensor([3, -2])]
            for _ in 0..<300 {
                let gradient = 2 * parameters["w"]!
                optimizer.update(&parameters, gradients: ["w": gradient])
            }
            XCTAssertLessThan(parameters["w"]!.scalars.map { Swift.abs($0) }.max()!, 0.05, "\(choice)")
        }
    }

    /// Three steps of each rule against the textbook updates computed here in Double (Goodfellow
    /// et al., algorithms 8.4 to 8.7), on gradients that change sign and size.
    func testUpdateRulesAgainstTheTextbook() {
        let gradients: [[Double]] = [[0.5, -2], [-1, 0.25], [3, 1]]
        func run(_ choice: OptimizerChoice) -> [Double] {
            var optimizer = choice.make()
            var parameters = ["w": Tensor([1, -1])]
            for g in gradients { optimizer.update(&parameters, gradients: ["w": Tensor(g.map(Float.init))]) }
            return parameters["w"]!.scalars.map(Double.init)
        }
        func textbook(_ step: (_ g: Double, _ t: Int, _ state: inout [Double]) -> Double) -> [Double] {
            (0..<2).map { i in
                var (p, state) = (i == 0 ? 1.0 : -1.0, [Double](repeating: 0, count: 2))
                for (t, g) in gradients.enumerated() { p += step(g[i], t + 1, &state) }
                return p
            }
        }
        let cases: [(OptimizerChoice, [Double])] = [
            (.adagrad(learningRate: 0.1, epsilon: 1e-3), textbook { g, _, r in r[0] += g * g; return -0.1 * g / (1e-3 + r[0].squareRoot()) }),
            (.rmsprop(learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, epsilonInsideRoot: true), textbook { g, _, r in
                r[0] = 0.9 * r[0] + 0.1 * g * g; return -0.01 * g / (r[0] + 1e-6).squareRoot() }),
            (.rmsprop(learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, momentum: 0.5), textbook { g, _, s in
                s[0] = 0.9 * s[0] + 0.1 * g * g; s[1] = 0.5 * s[1] - 0.01 * g / (s[0].squareRoot() + 1e-6); return s[1] }),
            (.rmsprop(learningRate: 0.01, alpha: 0.9, epsilon: 1e-6, momentum: 0.5, nesterov: true), textbook { g, _, s in
                s[0] = 0.9 * s[0] + 0.1 * g * g; let d = 0.01 * g / (s[0].squareRoot() + 1e-6); s[1] = 0.5 * s[1] - d; return 0.5 * s[1] - d }),
            (.adam(learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 1e-4), textbook { g, t, s in
                s[0] = 0.8 * s[0] + 0.2 * g; s[1] = 0.9 * s[1] + 0.1 * g * g
                return -0.1 * (s[0] / (1 - pow(0.8, Double(t)))) / ((s[1] / (1 - pow(0.9, Double(t)))).squareRoot() + 1e-4) }),
        ]
        for (choice, expected) in cases {
            for (got, want) in zip(run(choice), expected) { XCTAssertEqual(got, want, accuracy: 1e-5, "\(choice)") }
        }
        XCTAssertEqual(OptimizerChoice.adam(learningRate: 0.1, epsilon: 0).firstProblem, "the optimizer's epsilon must be a positive number, got 0.0")
        XCTAssertEqual(OptimizerChoice.rmsprop(learningRate: 0.1, momentum: 1).firstProblem, "the optimizer's momentum must lie in [0, 1), got 1.0")
    }

    /// The step count was saved as one Float, which holds whole numbers exactly only below
    /// 2^24: a run resumed past 16,777,216 steps lost steps (Adam's bias correction and a
    /// schedule read the wrong one). Past 2^24 it is kept as two Floats, exactly; one Float, as
    /// checkpoints before held, still restores.
    func testAStepCountPast2To24IsKeptExactly() throws {
        var optimizer = OptimizerChoice.adam(learningRate: 0.1).make()
        var parameters = ["w": Tensor([1, -1])]
        let slots = ["w#0": Tensor.zeros([2]), "w#1": Tensor.zeros([2])]
        try optimizer.restore(slots.merging(["step": Tensor([1, 3])]) { a, _ in a }, parameterShapes: ["w": [2]])
        XCTAssertEqual(optimizer.step, (1 << 24) + 3)
        optimizer.update(&parameters, gradients: ["w": Tensor([0.5, 0.5])])
        XCTAssertEqual(optimizer.state["step"]?.scalars, [1, 4])
        try optimizer.restore(slots.merging(["step": Tensor(16_777_215)]) { a, _ in a }, parameterShapes: ["w": [2]])
        XCTAssertEqual(optimizer.step, 16_777_215)
        XCTAssertEqual(optimizer.state["step"]?.shape, [], "a scalar below 2^24, as before")
        optimizer.update(&parameters, gradients: ["w": Tensor([0.5, 0.5])])
        XCTAssertEqual(optimizer.state["step"]?.scalars, [1, 0])
        for bad in [Tensor([1, Float(1 << 24)]), Tensor([1, 2, 3]), Tensor([1, 0.5])] {
            XCTAssertThrowsError(try optimizer.restore(slots.merging(["step": bad]) { a, _ in a }, parameterShapes: ["w": [2]])) { error in
                XCTAssertEqual("\(error)", "its step count is missing or not a whole number from 0 to 10^12")
            }
        }
    }

    func testSchedulesAndClipping() {
        XCTAssertEqual(LearningRateSchedule.step(every: 10, factor: 0.5).multiplier(at: 21), 0.25)
        XCTAssertEqual(LearningRateSchedule.exponential(factor: 0.9).multiplier(at: 3), 0.81, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule.cosine(steps: 100, minimum: 0.1).multiplier(at: 51), 0.55, accuracy: 1e-6)
        let stages = LearningRateSchedule.stages([.init(steps: 2, multiplier: 1), .init(steps: 3, multiplier: 0.5), .init(steps: 1, multiplier: 0.1)])
        XCTAssertEqual((1...8).map { stages.multiplier(at: $0) }, [1, 1, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1])
        var gradients = ["a": Tensor([3]), "b": Tensor([4])]
        XCTAssertEqual(clipGradientNorm(&gradients, maximum: 1), 5)
        XCTAssertEqual(gradients["a"]!.scalar, 0.6, accuracy: 1e-6)
        XCTAssertEqual(gradients["b"]!.scalar, 0.8, accuracy: 1e-6)
    }
}

/// The KL weight and the autoencoder limit.
final class KLWeightTests: XCTestCase {
    let conjugate = Model("conjugate") { (x: Tensor, n: Int) in
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(0, 1)
            observe("x", x) ~ Normal(z, 1)
        }
    }

    /// With the same seed the likelihood draws coincide, so ELBO(beta=1) - ELBO(beta=0.25) is
    /// exactly -0.75 sum KL(q || p).
    func testBetaScalesOnlyTheKLTerm() throws {
        let x = Tensor([0.5, -1, 2])
        let first = Amortized(conjugate, options: CompilerOptions(hiddenSizes: [4]), seed: 9)
        let second = Amortized(conjugate, options: CompilerOptions(hiddenSizes: [4]), seed: 9)
        let full = try first.objectiveGradient(x, datasetSize: 3, beta: 1).value
        let weak = try second.objectiveGradient(x, datasetSize: 3, beta: 0.25).value
        let q = try XCTUnwrap(first.posterior(x)["z"] as? Normal)
        let kl = try klDivergence(q, Normal(0, 1)).sum().scalar
        XCTAssertEqual(full - weak, -0.75 * kl, accuracy: 1e-4)
    }

    func testPointEstimateOfALocalSiteIsADeterministicEncoder() throws {
        var options = CompilerOptions(hiddenSizes: [4])
        options.pointEstimates = ["z"]
        let vi = Amortized(conjugate, options: options)
        let plan = try vi.compile(example: Tensor([1, 2]), datasetSize: 2)
        XCTAssertEqual(plan["z"]?.family, "Delta")
        let draws = try (0..<3).map { _ in try XCTUnwrap(vi.posterior(Tensor([1, 2]))["z"]).sample([]).scalars }
        XCTAssertEqual(draws[0], draws[1])
        XCTAssertEqual(draws[1], draws[2])
    }
}

/// A row whose values the model cannot take is named, where training said it diverged: counts
/// over an exposure, y ~ Poisson(t exp(mu + e)), with an exposure of 0 (a rate of 0 whatever
/// the parameters) stopped at the step that first met the row with "training diverged ...;
/// lower the learning rate", and a count of 2.5 in the rows compiled on named its index in
/// them alone.
final class RowRefusedAloneTests: XCTestCase {
    let model = Model("counts") { (x: Tensor, n: Int) in
        let mu = param("mu", Tensor(0))
        let exposure = x.slice(axis: 1, 0..<1).reshaped(to: [-1])
        let y = x.slice(axis: 1, 1..<2).reshaped(to: [-1])
        plate("data", size: n, subsample: x) {
            let e = latent("e") ~ Normal(Tensor(0), Tensor(0.5))
            observe("y", y) ~ Poisson(rate: exposure * exp(mu + e))
        }
    }

    func rows(changing row: Int, to values: [Float]) -> Tensor {
        var scalars = (0..<40).flatMap { i in [Float(1 + i % 3), Float(i % 5)] }
        scalars[2 * row] = values[0]
        scalars[2 * row + 1] = values[1]
        return Tensor(shape: [40, 2], scalars: scalars)
    }

    func testARowTheModelCannotTakeIsNamed() throws {
        let options = TrainingOptions(epochs: 2, batchSize: 10, optimizer: .adam(learningRate: 0.01))
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(rows(changing: 27, to: [0, 3]), options: options)) { error in
            XCTAssertTrue("\(error)".hasSuffix("when run on row 27 of the training data (counting from 0) alone, and not on other rows: the model makes this parameter from that row's values, which it cannot take; correct or leave out the row, or have the model accept such values"), "\(error)")
            XCTAssertTrue("\(error)".contains("Poisson: parameter 'rate' must be positive"), "\(error)")
        }
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(rows(changing: 6, to: [1, 2.5]), options: options)) { error in
            XCTAssertTrue("\(error)".hasSuffix("Poisson: value 2.5 of row 6 of the training data (counting from 0) is outside the support (nonnegative integers)"), "\(error)")
        }
        // A weight that updates made huge overflows the rate of the rows with larger
        // covariates first: refused on some rows alone, but not under the initial parameters,
        // so it is divergence.
        let growing = Model("growing") { (x: Tensor, n: Int) in
            let w = param("w", Tensor(0))
            let covariate = x.slice(axis: 1, 0..<1).reshaped(to: [-1])
            plate("data", size: n, subsample: x) {
                let e = latent("e") ~ Normal(Tensor(0), Tensor(0.1))
                observe("y", x.slice(axis: 1, 1..<2).reshaped(to: [-1])) ~ Poisson(rate: exp(w * covariate + e))
            }
        }
        let covariates = Tensor(shape: [40, 2], scalars: (0..<40).flatMap { i in [Float(i % 3), 6] })
        XCTAssertThrowsError(try Amortized(growing, options: CompilerOptions(hiddenSizes: [4])).fit(covariates, options: TrainingOptions(epochs: 3, batchSize: 10, optimizer: .sgd(learningRate: 1000)))) { error in
            XCTAssertTrue("\(error)".hasPrefix("training diverged at step"), "\(error)")
            XCTAssertFalse("\(error)".contains("when run on"), "\(error)")
        }
        // A parameter refused on every row is the parameters' doing, not a row's.
        let everyRow = rows(changing: 0, to: [1, 0]) * Tensor([[0, 1]])
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(everyRow, options: options)) { error in
            XCTAssertFalse("\(error)".contains("when run on"), "\(error)")
        }
    }
}

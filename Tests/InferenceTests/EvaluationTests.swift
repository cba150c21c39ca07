import Foundation
import Distributions
import Inference
import PPL
import TensorCore
import XCTest

/// Evaluation: importance-sampled log-likelihood, comparison with exact posteriors, and the
/// amortization gap.
final class EvaluationTests: XCTestCase {
    let conjugate = Model("conjugate") { (x: Tensor, n: Int) in
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(0, 1)
            observe("x", x) ~ Normal(z, 1)
        }
    }

    /// log p(x_n) = log N(x_n; 0, 2); with k = 3000 draws of even an untrained encoder (a normal
    /// covering the posterior) the estimate is within 0.02 nats per point.
    func testImportanceSampledLogLikelihoodOfAConjugateModel() throws {
        let x = Tensor([0.5, -1, 2, 0])
        let vi = Amortized(conjugate, options: CompilerOptions(hiddenSizes: [8]))
        _ = try vi.fit(x, options: TrainingOptions(epochs: 300, batchSize: 4, optimizer: .adam(learningRate: 0.02)))
        let estimate = try vi.importanceSampledLogLikelihood(x, samples: 3000)
        for (ours, value) in zip(estimate.scalars, x.scalars) {
            XCTAssertEqual(Double(ours), -Double(value * value) / 4 - 0.5 * Foundation.log(4 * Double.pi), accuracy: 0.02)
        }
    }

    /// With a point estimate z* as proposal every weight is p(x, z*), whatever k: the estimate
    /// was log p(x, z*), not log p(x). Importance sampling refuses a guide without a density,
    /// naming the site and its line.
    func testImportanceSamplingRefusesAPointEstimate() throws {
        var options = CompilerOptions(hiddenSizes: [8])
        options.pointEstimates = ["z"]
        let vi = Amortized(conjugate, options: options)
        let x = Tensor([2])
        for evaluation in [{ _ = try vi.importanceSampledLogLikelihood(x, samples: 100) }, { _ = try vi.importanceSampledLogMarginalLikelihood(x, samples: 100) }] {
            XCTAssertThrowsError(try evaluation()) { error in
                XCTAssertTrue("\(error)".hasPrefix("site 'z' at InferenceTests/EvaluationTests.swift:13: its guide is a point estimate, which has no density"), "\(error)")
            }
        }
        var training = TrainingOptions(epochs: 1, batchSize: 1)
        training.objective = .importanceWeighted(k: 5)
        XCTAssertThrowsError(try vi.fit(x, options: training)) { error in
            XCTAssertTrue("\(error)".contains("its guide is a point estimate, which has no density"), "\(error)")
        }
    }

    /// Per-row figures of a model with a global latent: a helper's global coin (exact log p(x)
    /// -20.8194 for its ten rows) had per-row ELBOs summing to -20.596, above log p(x), and a
    /// global Gamma rate 3 nats above it (the global site's prior and guide terms were left out), with
    /// no error. Every per-row figure now refuses them, as importance sampling by row did for a
    /// guided global site, naming the site; a global site summed in the model was let through.
    func testPerRowFiguresRefuseAGlobalLatent() throws {
        let x = Tensor([0.9, 1.2, -0.8, 1.1, 0.7, 1.4, 0.2, 1.9, -1.2, 0.8])
        let coinLine = #line + 2
        let coin = Model("global coin") { (x: Tensor, n: Int) in
            let m = latent("m") ~ Bernoulli(probs: 0.5)
            plate("data", size: n, subsample: x) { observe("x", x) ~ Normal(2 * m - 1, 1) }
        }
        let meanLine = #line + 2
        let mean = Model("global mean") { (x: Tensor, n: Int) in
            let mu = latent("mu") ~ Normal(0, 1)
            plate("data", size: n, subsample: x) { observe("x", x) ~ Normal(mu, 1) }
        }
        var summed = CompilerOptions(hiddenSizes: [4])
        summed.estimators = ["m": .marginalized]
        let cases: [(String, Amortized<Tensor>, Int)] = [
            ("m", Amortized(coin, options: summed), coinLine),
            ("m", Amortized(coin, options: CompilerOptions(hiddenSizes: [4])), coinLine),
            ("mu", Amortized(mean, options: CompilerOptions(hiddenSizes: [4])), meanLine),
        ]
        for (site, vi, line) in cases {
            try vi.compile(example: x, datasetSize: 10)
            for (name, call) in [("pointwiseELBO", { _ = try vi.pointwiseELBO(x) }), ("importanceSampledLogLikelihood", { _ = try vi.importanceSampledLogLikelihood(x, samples: 10) })] as [(String, () throws -> Void)] {
                XCTAssertThrowsError(try call(), name) { error in
                    XCTAssertTrue("\(error)".hasPrefix("site '\(site)' at InferenceTests/EvaluationTests.swift:\(line): it is global, so"), "\(name): \(error)")
                }
            }
        }
        // Training on the importance-weighted bound points to the objective that serves.
        var iwae = TrainingOptions(epochs: 1, batchSize: 10)
        iwae.objective = .importanceWeighted(k: 5)
        XCTAssertThrowsError(try Amortized(mean, options: CompilerOptions(hiddenSizes: [4])).fit(x, options: iwae)) { error in
            XCTAssertEqual("\(error)", "site 'mu' at InferenceTests/EvaluationTests.swift:\(meanLine): it is global, so the importance-weighted bound does not split into one term per row; use the ELBO (objective .elbo) for the whole data set")
        }
        // Its log p(x), by scipy: logaddexp over m of log 0.5 + sum_n log N(x_n; 2m - 1, 1).
        XCTAssertEqual(Double(try coin.logMarginalLikelihood(x, 10).scalar), -14.8225, accuracy: 1e-3)
    }

    func testComparisonAndGapOfAMixture() throws {
        let x = Tensor([-2.5, -0.3, 0.1, 1.8, 3])
        let vi = Amortized(twoComponentMixture, options: CompilerOptions(hiddenSizes: [8], activation: .tanh))
        _ = try vi.fit(x, options: TrainingOptions(epochs: 5, batchSize: 5, optimizer: .adam(learningRate: 0.01)))
        let comparison = try vi.compareWithExactPosterior(x, site: "z")
        XCTAssertEqual(comparison.klDivergence.count, 5)
        // No rows is an error, not a mean KL of 0.
        XCTAssertThrowsError(try vi.compareWithExactPosterior(Tensor.zeros([0]), site: "z")) { error in
            XCTAssertEqual("\(error)", "bad training options: the comparison with the exact posterior needs at least 1 row, got none")
        }
        XCTAssertThrowsError(try vi.amortizationGap(Tensor.zeros([0])))
        // Arguments out of range, a site the model lacks and rows of another width: errors
        // (the ELBO of 0 particles read -15.31, the site's name went unchecked, and the rows'
        // width met the encoder as a matrix product of mismatched shapes).
        XCTAssertThrowsError(try vi.elbo(x, particles: 0)) { error in
            XCTAssertEqual("\(error)", "bad training options: the ELBO needs at least 1 particle, got 0")
        }
        XCTAssertThrowsError(try vi.amortizationGap(x, steps: 0, samples: 1, particles: 0)) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad training options: the amortization gap needs steps >= 0, particles >= 1"), "\(error)")
        }
        XCTAssertThrowsError(try vi.compareWithExactPosterior(x, site: "nope")) { error in
            XCTAssertEqual("\(error)", "model 'mixture' has no site 'nope' (its sites: z)")
        }
        XCTAssertThrowsError(try vi.elbo(Tensor.zeros([5, 2]))) { error in
            XCTAssertTrue("\(error)".contains("encoder: the rows have 2 numbers each, and the guide's encoders were compiled on rows of 1"), "\(error)")
        }
        for n in 0..<5 {
            XCTAssertEqual(comparison.logLikelihood[n] - comparison.elbo[n], comparison.klDivergence[n], accuracy: 1e-4, "log p(x) - ELBO = KL(q || p) for enumerated sites")
        }
        func logDensity(_ x: Double) -> Double {
            let left = 0.4 * Foundation.exp(-0.5 * (x + 2) * (x + 2))
            let right = 0.6 * Foundation.exp(-0.5 * (x - 2) * (x - 2))
            return Foundation.log(left + right) - 0.5 * Foundation.log(2 * Double.pi)
        }
        let exact = [-2.5, -0.3, 0.1, 1.8, 3].map(logDensity)
        for (ours, value) in zip(comparison.logLikelihood, exact) { XCTAssertEqual(Double(ours), value, accuracy: 1e-4) }
        let gap = try vi.amortizationGap(x, steps: 300, learningRate: 0.05)
        XCTAssertEqual(gap.logLikelihood, comparison.meanLogLikelihood, accuracy: 1e-4)
        XCTAssertEqual(gap.amortizedELBO, comparison.meanELBO, accuracy: 1e-4)
        XCTAssertGreaterThan(gap.amortizationGap, 0, "per-point refinement improves on a barely trained encoder")
        XCTAssertLessThan(gap.approximationGap, 0.01, "a free categorical per point reaches the exact posterior")
    }
    /// A global latent's KL term belongs once to the ELBO of all the held-out rows: with
    /// theta ~ N(0, 1), x_n ~ N(theta, 1) and q(theta) = N(m, s^2), the held-out ELBO per row is
    /// exactly mean_n log N(x_n; m, 1) - s^2 / 2 - KL(q || p) / M, whatever q. Training's held-out
    /// figure, computed in chunks of 1000 rows, charged the KL once per chunk (three here), and
    /// was 2 KL / M = 0.013 nats a row too low.
    /// With every latent enumerated, log p(x) - ELBO is each row's KL(q || p) of the joint, which
    /// bounds the KL of every marginal. A guide for b fed an upstream a was compared by one draw
    /// of a, a conditional against a marginal (KL 0.39 a row beside a joint within 0.008); its
    /// marginal, summed over a, now keeps the bound. A partly observed site's observed rows
    /// compare the observation with itself (they counted about 24 nats each).
    func testComparisonOfAGuideFedAnUpstreamLatentAndOfPartlyObservedLabels() throws {
        let locs = Tensor([-3, 0, 3])
        let twoLatents = Model("two discrete") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let a = latent("a") ~ Categorical(probs: Tensor([0.5, 0.3, 0.2]))
                let b = latent("b") ~ Bernoulli(probs: 0.4)
                observe("x", x) ~ Normal(locs[a] + 3 * b, 0.7)
            }
        }
        var generator = RandomGenerator(seed: 5)
        let a = Tensor.randomCategorical(probabilities: Tensor([0.5, 0.3, 0.2]).expanded(to: [40, 3]), using: &generator)
        let b = Tensor.randomBernoulli(probabilities: Tensor.full([40], 0.4), using: &generator)
        let x = locs[a] + 3 * b + 0.7 * Tensor.randomNormal([40], using: &generator)
        let vi = Amortized(twoLatents, options: CompilerOptions(hiddenSizes: [16], activation: .tanh))
        XCTAssertEqual(try vi.compile(example: x, datasetSize: 40).sites.last?.inputs, ["data", "a"])
        _ = try vi.fit(x, options: TrainingOptions(epochs: 300, batchSize: 40, optimizer: .adam(learningRate: 0.02)))
        for site in ["a", "b"] {
            let comparison = try vi.compareWithExactPosterior(x, site: site)
            for n in 0..<40 {
                let joint = comparison.logLikelihood[n] - comparison.elbo[n]
                XCTAssertLessThanOrEqual(comparison.klDivergence[n], joint + 1e-4, "row \(n), site \(site): a marginal's KL is at most the joint's")
            }
        }
        // For binary b the total variation is |q(b = 1 | x) - p(b = 1 | x)|; the guide's joint
        // draws give q(b = 1 | x) within 4 standard errors (at most 0.5 / sqrt(draws) each).
        let ofB = try vi.compareWithExactPosterior(x, site: "b")
        let exact = try twoLatents.exactPosterior(x, 40, site: "b", parameters: vi.parameters).slice(axis: 1, 1..<2).scalars
        let draws = 4000
        let drawn = try XCTUnwrap(vi.posteriorSummary(x, draws: draws)["b"]).mean.scalars
        for n in 0..<40 {
            XCTAssertEqual(ofB.totalVariation[n], abs(drawn[n] - exact[n]), accuracy: 4 * 0.5 / Float(draws).squareRoot(), "row \(n)")
        }
        let semi = Model("semi-supervised") { (data: Table, n: Int) in
            plate("data", size: n, subsample: data) {
                let y = observe("y", data["y"], where: data["known"]) ~ Categorical(probs: Tensor([0.5, 0.3, 0.2]))
                observe("x", data["x"]) ~ Normal(Tensor([-2, 0, 2])[y], 1)
            }
        }
        let labels = Tensor.randomCategorical(probabilities: Tensor([0.5, 0.3, 0.2]).expanded(to: [30, 3]), using: &generator)
        let table = try Table(["x": Tensor([-2, 0, 2])[labels] + Tensor.randomNormal([30], using: &generator), "y": labels,
                               "known": Tensor((0..<30).map { $0 % 3 == 0 ? 1 : 0 })])
        let labelled = Amortized(semi, options: CompilerOptions(hiddenSizes: [16], activation: .tanh))
        _ = try labelled.fit(table, options: TrainingOptions(epochs: 30, batchSize: 30, optimizer: .adam(learningRate: 0.02)))
        let comparison = try labelled.compareWithExactPosterior(table, site: "y")
        for n in 0..<30 {
            XCTAssertEqual(comparison.logLikelihood[n] - comparison.elbo[n], comparison.klDivergence[n], accuracy: 1e-4, "row \(n): log p(x) - ELBO = KL(q || p)")
            if n % 3 == 0 { XCTAssertEqual(comparison.klDivergence[n], 0, "row \(n) is observed") }
        }
    }

    /// The summaries keep a partly observed site's known values, as training does: a labelled
    /// row's label is its posterior, and what follows it in the guide and the model is fed the
    /// label. They ran the guide without them: a row labelled 0 read a mean of 0.9998, and
    /// the latent after it and a deterministic site were off by the other component's shift.
    func testSummariesKeepTheKnownLabels() throws {
        let shifts = Tensor([-2, 2])
        let model = Model("labelled shift") { (data: Table, n: Int) in
            plate("data", size: n, subsample: data) {
                let y = observe("y", data["y"], where: data["known"]) ~ Categorical(probs: Tensor([0.5, 0.5]))
                let z = latent("z") ~ Normal(0, 1)
                deterministic("shift", shifts[y] + z)
                observe("x", data["x"]) ~ Normal(shifts[y] + z, 0.5)
            }
        }
        // Rows 0 and 2 are labelled against what their x suggests.
        let labels: [Float] = [0, 0, 1, 0, 1, 0]
        let table = try Table(["x": Tensor([3, 3, -3, -3, 0.5, -0.2]), "y": Tensor(labels), "known": Tensor([1, 0, 1, 0, 1, 0])])
        var options = CompilerOptions(hiddenSizes: [8], activation: .tanh)
        options.encoderColumns = ["x"]
        let vi = Amortized(model, options: options)
        _ = try vi.fit(table, options: TrainingOptions(epochs: 20, batchSize: 6, optimizer: .adam(learningRate: 0.02)))
        let summary = try vi.posteriorSummary(table, draws: 200)
        let y = try XCTUnwrap(summary["y"]).mean.scalars, z = try XCTUnwrap(summary["z"]).mean.scalars
        let shift = try XCTUnwrap(summary["shift"]).mean.scalars
        let q = try XCTUnwrap(try vi.posterior(table)["y"] as? Categorical).probs.scalars
        for row in [0, 2, 4] {
            XCTAssertEqual(y[row], labels[row], "row \(row)")
            XCTAssertEqual(shift[row] - z[row], labels[row] == 0 ? -2 : 2, accuracy: 1e-4, "row \(row)")
            XCTAssertEqual(Array(q[(2 * row)..<(2 * row + 2)]), labels[row] == 0 ? [1, 0] : [0, 1], "row \(row)")
        }
        // A binary label's guide is a Bernoulli: its known rows are certain too.
        let binary = Model("labelled coin") { (data: Table, n: Int) in
            plate("data", size: n, subsample: data) {
                let y = observe("y", data["y"], where: data["known"]) ~ Bernoulli(probs: 0.5)
                observe("x", data["x"]) ~ Normal(4 * y - 2, 0.5)
            }
        }
        let coin = Amortized(binary, options: options)
        _ = try coin.fit(table, options: TrainingOptions(epochs: 20, batchSize: 6, optimizer: .adam(learningRate: 0.02)))
        let p = try XCTUnwrap(try coin.posterior(table)["y"] as? Bernoulli).probs.scalars
        XCTAssertEqual([p[0], p[2], p[4]], [0, 1, 1])
        // New rows without the label columns: nothing is known, and the guide reads x alone.
        let fresh = try vi.posterior(try Table(["x": Tensor([2.5, -2.5])]))
        XCTAssertEqual(try XCTUnwrap(fresh["y"] as? Categorical).probs.shape, [2, 2])
        // With the classification term, a placeholder of -1 where the label is unknown stopped
        // training ("value -1.0 ... outside the support"); masked out, it changes nothing.
        var supervised = TrainingOptions(epochs: 3, batchSize: 6, optimizer: .adam(learningRate: 0.02))
        supervised.supervision = 5
        var trained: [[Float]] = []
        for placeholder in [Float(0), -1] {
            let rows = try Table(["x": Tensor([3, 3, -3, -3, 0.5, -0.2]), "y": Tensor(labels.enumerated().map { $0.offset % 2 == 1 ? placeholder : $0.element }), "known": Tensor([1, 0, 1, 0, 1, 0])])
            let learner = Amortized(model, options: options, seed: 3)
            _ = try learner.fit(rows, options: supervised)
            trained.append(learner.guideParameters.names.sorted().flatMap { learner.guideParameters[$0]!.scalars })
        }
        XCTAssertEqual(trained[0], trained[1])
        // A mask of 0.5 was taken as 1 (the row scored as labelled) with no word.
        let halfKnown = try Table(["x": Tensor([3, 3, -3, -3, 0.5, -0.2]), "y": Tensor(labels), "known": Tensor([1, 0.5, 1, 0, 1, 0])])
        XCTAssertThrowsError(try model.logMarginalLikelihood(halfKnown, 6)) { error in
            XCTAssertTrue("\(error)".hasSuffix("its mask holds 0.5 at element 1; a mask holds 1 where the entry counts (is known) and 0 where it does not"), "\(error)")
        }
    }

    /// A site in a plate inside the data plate has several values a row: every figure is per
    /// row (the argmax agreement was per cell, three times as many entries as the KL).
    func testComparisonOfASiteWithSeveralValuesARow() throws {
        let cells = Model("cells") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x, dim: -2) {
                plate("cells", size: 3, dim: -1) {
                    let z = latent("z") ~ Bernoulli(probs: 0.3)
                    observe("x", x) ~ Normal(2 * z, 1)
                }
            }
        }
        let x = Tensor([0.1, 2.2, 1.9, -0.4, 0.3, 2.5, 1.1, 0.8, 2.9, -1.0, 0.2, 0.4]).reshaped(to: [4, 3])
        let vi = Amortized(cells, options: CompilerOptions(hiddenSizes: [8], activation: .tanh))
        _ = try vi.fit(x, options: TrainingOptions(epochs: 50, batchSize: 4, optimizer: .adam(learningRate: 0.05)))
        let comparison = try vi.compareWithExactPosterior(x, site: "z")
        XCTAssertEqual([comparison.klDivergence.count, comparison.totalVariation.count, comparison.argmaxAgrees.count, comparison.logLikelihood.count], [4, 4, 4, 4])
        // A global site has no rows: refused, saying what to compare instead (it failed with a
        // message about summing out and a reshape error on standard error).
        let global = Model("global coin") { (x: Tensor, n: Int) in
            let m = latent("m") ~ Bernoulli(probs: 0.5)
            plate("data", size: n, subsample: x) { observe("x", x) ~ Normal(3 * (2 * m - 1), 1) }
        }
        let coin = Amortized(global)
        _ = try coin.compile(example: Tensor([2.5, 3.1, 2.8, 3.4]), datasetSize: 4)
        XCTAssertThrowsError(try coin.compareWithExactPosterior(Tensor([2.5, 3.1, 2.8, 3.4]), site: "m")) { error in
            XCTAssertTrue("\(error)".contains("it is global, and the comparison is row by row"), "\(error)")
        }
        // A local site beside a global one, and a site summed out of the model, are refused
        // saying why (they failed about a contraction, and about a guide with no sites).
        let twoLevels = Model("global and local coins") { (x: Tensor, n: Int) in
            let m = latent("m") ~ Bernoulli(probs: 0.5)
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Bernoulli(probs: 0.5)
                observe("x", x) ~ Normal((2 * z - 1) * (1 + 2 * m), 1)
            }
        }
        XCTAssertThrowsError(try Amortized(twoLevels).compareWithExactPosterior(Tensor([2.5, -3.1]), site: "z")) { error in
            XCTAssertTrue("\(error)".contains("the model has a global latent site ('m'), so log p(x) and the ELBO do not split by row"), "\(error)")
        }
        var summed = CompilerOptions(hiddenSizes: [8])
        summed.estimators = ["z": .marginalized]
        let localOnly = Model("local coin") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Bernoulli(probs: 0.5)
                let w = latent("w") ~ Normal(2 * z - 1, 1)
                observe("x", x) ~ Normal(w, 1)
            }
        }
        XCTAssertThrowsError(try Amortized(localOnly, options: summed).compareWithExactPosterior(Tensor([2.5, -3.1]), site: "z")) { error in
            XCTAssertTrue("\(error)".contains("it is summed out of the model, so no guide stands for it"), "\(error)")
        }
    }

    /// A model's deterministic sites are summarized from the model run on each joint draw of the
    /// guide, as Pyro's Predictive returns them (they were left out): the same draws as the
    /// latent's, so a monotone function's quantiles are that function of the latent's, and its
    /// mean agrees within Monte Carlo error.
    func testPosteriorSummaryHoldsDeterministicSites() throws {
        let model = Model("shifted") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1)
                _ = deterministic("doubled", 2 * z + 1)
                observe("x", x) ~ Normal(z, 1)
            }
        }
        let x = Tensor([0.4, -1.2, 2.0])
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [8], activation: .tanh))
        _ = try vi.fit(x, options: TrainingOptions(epochs: 20, batchSize: 3, optimizer: .adam(learningRate: 0.05)))
        let draws = 2000
        let summary = try vi.posteriorSummary(x, draws: draws)
        let z = try XCTUnwrap(summary["z"]), doubled = try XCTUnwrap(summary["doubled"])
        XCTAssertFalse(doubled.isExact)
        XCTAssertEqual(doubled.mean.shape, [3])
        for level: Float in [0.05, 0.5, 0.95] {
            for (d, v) in zip(try XCTUnwrap(doubled.quantiles[level]).scalars, try XCTUnwrap(z.quantiles[level]).scalars) {
                XCTAssertEqual(d, 2 * v + 1, accuracy: 1e-5)
            }
        }
        for (row, (d, mean)) in zip(doubled.mean.scalars, z.mean.scalars).enumerated() {
            let standardError = 2 * z.standardDeviation.scalars[row] / Float(draws).squareRoot()
            XCTAssertEqual(d, 2 * mean + 1, accuracy: 4 * standardError, "row \(row)")
        }
    }

    /// Every row of an exact posterior sums to 1, also when a global site is summed over many
    /// rows: the total's rounding (near -6558 for 3000 rows) scaled every entry, so that rows
    /// summed to 0.99979 and p(m) was 0.49989 each.
    func testExactPosteriorsSumToOneOverManyRows() throws {
        let model = Model("global coin beside a mixture") { (x: Tensor, n: Int) in
            let m = latent("m") ~ Bernoulli(probs: 0.5)
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Categorical(probs: Tensor([0.3, 0.2, 0.5]))
                observe("x", x) ~ Normal(Tensor([-4, 0, 3.5])[z] + 0 * m, 1)
            }
        }
        var generator = RandomGenerator(seed: 7)
        let x = 3 * Tensor.randomNormal([3000], using: &generator)
        let z = try model.exactPosterior(x, 3000, site: "z")
        for total in z.sum(axis: -1).scalars { XCTAssertEqual(total, 1, accuracy: 2e-6) }
        for p in try model.exactPosterior(x, 3000, site: "m").scalars { XCTAssertEqual(p, 0.5, accuracy: 2e-6) }
    }

    /// A local head fed an upstream latent keeps following its draws in the refined guide (free
    /// per-row offsets on its network, not free outputs recorded at one draw): refined with no
    /// step it is the amortized guide, and refinement can only improve on it. Before, z2's free
    /// outputs ignored z1, and the gap read -0.355 at no step on this chain.
    func testAmortizationGapOfAHeadFedAnUpstreamLatent() throws {
        let chain = Model("two-layer chain") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z1 = latent("z1") ~ Normal(0, 1)
                let z2 = latent("z2") ~ Normal(2 * z1, 0.5)
                observe("x", x) ~ Normal(z2 - 1, 0.3)
            }
        }
        var generator = RandomGenerator(seed: 5)
        let x = Tensor.randomNormal([40], using: &generator) * Float(4.34).squareRoot() - 1
        let vi = Amortized(chain, options: CompilerOptions(hiddenSizes: [16], activation: .tanh))
        XCTAssertEqual(try vi.compile(example: x, datasetSize: 40).sites.map(\.inputs), [["data"], ["data", "z1"]])
        _ = try vi.fit(x, options: TrainingOptions(epochs: 150, batchSize: 40, optimizer: .adam(learningRate: 0.02)))
        let unrefined = try vi.amortizationGap(x, steps: 0, samples: 2000, particles: 2000)
        XCTAssertEqual(unrefined.refinedELBO, unrefined.amortizedELBO, accuracy: 0.01, "no step leaves the amortized guide")
        let refined = try vi.amortizationGap(x, steps: 100, learningRate: 0.02, samples: 2000, particles: 2000)
        XCTAssertGreaterThan(refined.amortizationGap, -0.01, "refinement starts from the amortized guide")
        XCTAssertLessThanOrEqual(refined.refinedELBO, refined.logLikelihood + 0.01, "the ELBO bounds log p(x)")
    }

    /// With a global latent the rows' log p(x) does not split by row: the gap's log-likelihood is
    /// the joint's per row (it was refused with a message about summing out outside the plate).
    func testAmortizationGapOfAModelWithAGlobalLatent() throws {
        let model = Model("global and local coins") { (x: Tensor, n: Int) in
            let m = latent("m") ~ Bernoulli(probs: 0.5)
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Bernoulli(probs: 0.5)
                observe("x", x) ~ Normal((2 * z - 1) * (1 + 2 * m), 1)
            }
        }
        let x = Tensor([2.9, -3.4, 3.1, -2.6, 3.8, -2.2, 2.5, -3.0])
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [8], activation: .tanh))
        _ = try vi.fit(x, options: TrainingOptions(epochs: 50, batchSize: 8, optimizer: .adam(learningRate: 0.05)))
        let gap = try vi.amortizationGap(x, steps: 50)
        XCTAssertEqual(gap.logLikelihood, try model.logMarginalLikelihood(x, 8, parameters: vi.parameters).scalar / 8, accuracy: 1e-5)
        XCTAssertLessThanOrEqual(gap.refinedELBO, gap.logLikelihood + 1e-4, "the ELBO bounds log p(x)")
        XCTAssertLessThanOrEqual(gap.amortizedELBO, gap.logLikelihood + 1e-4)
    }

    func testHeldOutELBOChargesAGlobalLatentOnce() throws {
        let normalMean = Model("normal mean") { (x: Tensor, n: Int) in
            let theta = latent("theta") ~ Normal(0, 1)
            plate("data", size: n, subsample: x) { observe("x", x) ~ Normal(theta, 1) }
        }
        var generator = RandomGenerator(seed: 17)
        let train = 5 + Tensor.randomNormal([5000], using: &generator)
        let heldOut = 5 + Tensor.randomNormal([2500], using: &generator)
        let vi = Amortized(normalMean)
        let reports = try vi.fit(train, heldOut: heldOut, options: TrainingOptions(epochs: 400, batchSize: 1000, optimizer: .adam(learningRate: 0.05)))
        let q = try XCTUnwrap(try vi.posterior(train)["theta"] as? Normal)
        let (m, s) = (Double(q.loc.scalars[0]), Double(q.scale.scalars[0]))
        let kl = -Foundation.log(s) + (s * s + m * m) / 2 - 0.5
        let values = heldOut.scalars.map(Double.init)
        let expected = values.map { -0.5 * ($0 - m) * ($0 - m) - 0.5 * Foundation.log(2 * Double.pi) }.reduce(0, +) / 2500 - s * s / 2 - kl / 2500
        XCTAssertLessThan(s, 0.03, "q(theta) has concentrated, so one draw per chunk is enough")
        XCTAssertEqual(Double(try XCTUnwrap(reports.last?.heldOutELBO)), expected, accuracy: 0.002)
    }
    /// A point mass of the user's own type, which does not declare `isPointMass`: every draw is
    /// the same value, so importance weights p(x, z*) / q(z*) estimate nothing. It is refused as a
    /// point estimate, naming the site, as a `Delta` guide is; a normal guide is not.
    func testAPointMassOfTheUsersOwnTypeIsRefused() throws {
        struct Pinned: Distribution {
            let value: Tensor
            var batchShape: [Int] { value.shape }
            var eventShape: [Int] { [] }
            var support: Constraint { .real }
            func logProb(_ x: Tensor) -> Tensor { Tensor.zeros(x.shape) }
            func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor { value.expanded(to: sampleShape + value.shape) }
            var mean: Tensor { value }
            var variance: Tensor { Tensor.zeros(value.shape) }
            func entropy() -> Tensor { Tensor.zeros(value.shape) }
            func expanded(to batchShape: [Int]) -> Pinned { Pinned(value: value.expanded(to: batchShape)) }
        }
        let x = Tensor([0.5, -1, 2])
        for (family, refused) in [("pinned", true), ("normal", false)] {
            let guide = Model("guide") { (x: Tensor, n: Int) in
                plate("data", size: n, subsample: x) {
                    if family == "pinned" { latent("z") ~ Pinned(value: 0.5 * x) } else { latent("z") ~ Normal(0.5 * x, 0.75) }
                }
            }
            let vi = Amortized(conjugate, guide: guide)
            if refused {
                XCTAssertThrowsError(try vi.importanceSampledLogLikelihood(x, samples: 10)) { error in
                    XCTAssertTrue("\(error)".contains("site 'z'") && "\(error)".contains("its guide is a point estimate, which has no density"), "\(error)")
                }
            } else {
                let estimate = try vi.importanceSampledLogLikelihood(x, samples: 4000)
                for (ours, value) in zip(estimate.scalars, x.scalars) {
                    XCTAssertEqual(Double(ours), -Double(value * value) / 4 - 0.5 * Foundation.log(4 * Double.pi), accuracy: 0.02)
                }
            }
        }
    }
}

/// z ~ Categorical(0.4, 0.6), x ~ N(-2 or 2, 1): a mixture whose posteriors are known exactly.
let twoComponentMixture = Model("mixture") { (x: Tensor, n: Int) in
    plate("data", size: n, subsample: x) {
        let z = latent("z") ~ Categorical(probs: Tensor([0.4, 0.6]))
        observe("x", x) ~ Normal(Tensor([-2, 2])[z], 1)
    }
}

/// Importance sampling with a guide that draws a site of listed values by the score function,
/// sure of one value (q(k = 0) near 1 on every row): it never proposed the others, and the
/// estimate fell short of log p(x) by their share (-7.26 for -2.18, -13.46 for -1.87 on two of
/// the rows here) with every weight alike. A defensive proposal draws each value with probability at least
/// 0.1 / K, so the estimate is log p(x).
final class DefensiveProposalTests: XCTestCase {
    func testAGuideSureOfOneValueStillEstimatesLogPOfX() throws {
        let model = Model("mixture") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let k = latent("k") ~ Categorical(probs: Tensor([0.2, 0.3, 0.5]))
                observe("x", x) ~ Normal(Tensor([-3, 0, 3])[k], sqrt(Tensor(1.25)))
            }
        }
        let x = Tensor([-3.1, 0.4, 2.2, -1.5, 1.4])
        var options = CompilerOptions(hiddenSizes: [8])
        options.estimators["k"] = .scoreFunction
        let vi = Amortized(model, options: options)
        try vi.compile(example: x, datasetSize: 5)
        vi.guideParameters.updateUnconstrained { parameters in
            for (name, value) in parameters where name.hasPrefix("k") && value.shape.last == 3 {
                parameters[name] = value.rank == 1 ? Tensor([30, 0, 0]) : Tensor.zeros(value.shape)
            }
        }
        let weights = [0.2, 0.3, 0.5], locations = [-3.0, 0, 3], variance = 1.25
        let exact = x.scalars.map { value in
            Foundation.log(zip(weights, locations).map { w, m in
                w * Foundation.exp(-(Double(value) - m) * (Double(value) - m) / (2 * variance)) / (2 * Double.pi * variance).squareRoot()
            }.reduce(0, +))
        }
        // Each weight's relative standard deviation is at most about 5 here (a value the guide
        // does not propose is drawn with probability 0.1 / 3), so with 20,000 draws the log of
        // their mean lies within 4 standard errors, 0.15, of log p(x).
        let estimate = try vi.importanceSampledLogLikelihood(x, samples: 20_000).scalars
        for (ours, truth) in zip(estimate, exact) { XCTAssertEqual(Double(ours), truth, accuracy: 0.15) }
        // The training objective is unchanged: the guide's own q, sure of k = 0.
        XCTAssertLessThan(Double(try vi.elbo(x, particles: 10)), exact.reduce(0, +) - 20)
    }
}

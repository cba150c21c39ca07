import Foundation
import Latent
import XCTest

/// Models with discrete latents: local, global, joint vectors, and a continuous child of a
/// discrete parent. Exact answers by enumeration (in the test, in Double).
final class DiscreteLatentTests: XCTestCase {
    /// A Gaussian mixture with learned weights, locations and scales: the amortized posterior
    /// of each point's component against the exact one given the learned parameters.
    func testGaussianMixtureAgainstEnumeration() throws {
        let gmm = Model("gmm") { (x: Tensor, n: Int) in
            let weights = param("weights", Tensor.ones([3]) / 3, constraint: .simplex)
            let locs = param("locs", Tensor([[0, 0], [1, 1], [-1, 1]]))
            let scales = param("scales", Tensor.ones([3, 2]), constraint: .positive)
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Categorical(probs: weights)
                observe("x", x) ~ Normal(locs[z], scales[z]).independent(1)
            }
        }
        var generator = RandomGenerator(seed: 31)
        let components = Tensor.randomCategorical(probabilities: Tensor([0.5, 0.3, 0.2]).expanded(to: [300, 3]), using: &generator)
        let x = Tensor([[0, 0], [3, 1], [-1, 3]])[components] + 0.7 * Tensor.randomNormal([300, 2], using: &generator)
        let vi = Amortized(gmm, options: CompilerOptions(hiddenSizes: [32], activation: .tanh))
        try trainToConvergence(vi, x, steps: 1500, learningRate: 0.02, particles: 1)
        let comparison = try vi.compareWithExactPosterior(x, site: "z")
        // KL(q || p) per point below 0.01 nats: the categorical head can represent p(z | x).
        XCTAssertLessThan(comparison.meanKL, 0.01)
        XCTAssertGreaterThan(comparison.argmaxAgreement, 0.98)
        let exact = Double(try gmm.logMarginalLikelihood(x, 300, parameters: vi.parameters).scalar)
        try assertELBOIsATightBound(vi, x, logLikelihood: exact, gap: 0.01 * 300)
        // Every latent is summed exactly, so each importance weight is p(x_n) itself.
        let estimate = Double(try vi.importanceSampledLogLikelihood(x, samples: 1).sum().scalar)
        XCTAssertEqual(estimate, exact, accuracy: 1e-5 * abs(exact))
    }

    /// z_n ~ Categorical(0.4, 0.6), w_n ~ N(m_z, 1), x_n ~ N(w_n, 0.5^2) with m = (-2, 2).
    /// p(z | x) ∝ pi_z N(x; m_z, 1.25); w | z, x ~ N((m_z + 4x) / 5, 1/5). The guide of w is fed
    /// the data and z, so it can be exact; its analytic KL is averaged under q(z) (defect: it
    /// was summed over z unweighted).
    func testMixtureWithAContinuousChildOfTheComponent() throws {
        let model = Model("mixture with child") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Categorical(probs: Tensor([0.4, 0.6]))
                let w = latent("w") ~ Normal(Tensor([-2, 2])[z], 1)
                observe("x", x) ~ Normal(w, 0.5)
            }
        }
        var generator = RandomGenerator(seed: 41)
        let z = Tensor.randomCategorical(probabilities: Tensor([0.4, 0.6]).expanded(to: [200, 2]), using: &generator)
        let x = Tensor([-2, 2])[z] + Tensor.randomNormal([200], using: &generator) + 0.5 * Tensor.randomNormal([200], using: &generator)
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [32], activation: .tanh))
        let plan = try vi.compile(example: x, datasetSize: 200)
        XCTAssertEqual(plan["w"]?.inputs, ["data", "z"])
        XCTAssertEqual(plan["w"]?.estimator, .analyticKL)
        try trainToConvergence(vi, x, steps: 3000, learningRate: 0.01, particles: 4)

        var posterior: [[Double]] = [], means: [Double] = [], sds: [Double] = [], logLikelihood = 0.0
        for value in x.scalars.map(Double.init) {
            let joint = [(0.4, -2.0), (0.6, 2.0)].map { Foundation.log($0.0) + normalLogDensity(value, $0.1, 1.25.squareRoot()) }
            let total = logSumExp(joint)
            let p = joint.map { Foundation.exp($0 - total) }
            let conditional = [-2.0, 2.0].map { ($0 + 4 * value) / 5 }
            let mean = p[0] * conditional[0] + p[1] * conditional[1]
            posterior.append(p)
            means.append(mean)
            sds.append((0.2 + p[0] * conditional[0] * conditional[0] + p[1] * conditional[1] * conditional[1] - mean * mean).squareRoot())
            logLikelihood += total
        }
        let q = try XCTUnwrap(vi.posterior(x)["z"] as? Categorical).probs.scalars.map(Double.init)
        let kl = (0..<200).map { n in (0..<2).map { k in q[2 * n + k] * Foundation.log(max(q[2 * n + k], 1e-30) / posterior[n][k]) }.reduce(0, +) }
        XCTAssertLessThan(kl.reduce(0, +) / 200, 0.01, "mean KL(q(z) || p(z | x))")
        try assertMoments(vi, x, site: "w", exact: ExactMoments(mean: means, sd: sds), meanTolerance: 0.15, sdTolerance: 0.15)
        try assertELBOIsATightBound(vi, x, logLikelihood: logLikelihood, gap: 0.01 * 200)
        try assertImportanceSamplingMatches({ Double(try vi.importanceSampledLogLikelihood(x, samples: 100, seed: $0).sum().scalar) }, logLikelihood: logLikelihood)
    }

    /// A global model choice: m ~ Bernoulli(1/2) picks the prior scale of mu (1 or 3),
    /// x_n ~ N(mu, 1). Given m the evidence is Gaussian; p(m | x) follows, and mu | m, x is
    /// normal. The guide of m is a global categorical, enumerated; the guide of mu is fed m.
    func testGlobalDiscreteModelChoice() throws {
        let model = Model("model choice") { (x: Tensor, n: Int) in
            let m = latent("m") ~ Bernoulli(probs: 0.5)
            let mu = latent("mu") ~ Normal(0, 1 + 2 * m)
            plate("data", size: n, subsample: x) {
                observe("x", x) ~ Normal(mu, 1)
            }
        }
        var generator = RandomGenerator(seed: 51)
        let x = Tensor.randomNormal([10], using: &generator) + 1.2
        let values = x.scalars.map(Double.init)
        let n = Double(values.count), sum = values.reduce(0, +), squares = values.map { $0 * $0 }.reduce(0, +)
        var evidence: [Double] = [], conditional: [(mean: Double, variance: Double)] = []
        for variance in [1.0, 9.0] {
            evidence.append(Foundation.log(0.5) - n / 2 * Foundation.log(2 * Double.pi) - 0.5 * Foundation.log(1 + variance * n) - 0.5 * (squares - variance * sum * sum / (1 + variance * n)))
            let precision = 1 / variance + n
            conditional.append((sum / precision, 1 / precision))
        }
        let logEvidence = logSumExp(evidence)
        let p = evidence.map { Foundation.exp($0 - logEvidence) }
        let muMean = p[0] * conditional[0].mean + p[1] * conditional[1].mean
        let muSecond = zip(p, conditional).map { $0 * ($1.variance + $1.mean * $1.mean) }.reduce(0, +)

        let vi = Amortized(model)
        let plan = try vi.compile(example: x, datasetSize: 10)
        XCTAssertEqual(plan["m"]?.estimator, .enumerated)
        XCTAssertEqual(plan["m"]?.plate, nil)
        XCTAssertEqual(plan["mu"]?.inputs, ["m"])
        try trainToConvergence(vi, x, steps: 1500, learningRate: 0.03)
        let q = try XCTUnwrap(vi.posterior(x)["m"] as? Bernoulli).probs.scalar
        XCTAssertEqual(Double(q), p[1], accuracy: 0.02, "q(m = 1) against p(m = 1 | x)")
        try assertMoments(vi, x, site: "mu", exact: ExactMoments(mean: [muMean], sd: [(muSecond - muMean * muMean).squareRoot()]))
        try assertELBOIsATightBound(vi, x, logLikelihood: logEvidence, gap: 0.02)
        try assertImportanceSamplingMatches({ Double(try vi.importanceSampledLogMarginalLikelihood(x, samples: 500, seed: $0)) }, logLikelihood: logEvidence)
    }

    /// A row's category enumerated by the guide whose prior reads a global site summed out in
    /// the model cannot be eliminated first (its expectation would average over the global
    /// site's values row by row) nor after (the global site lives outside the plate): refused,
    /// naming the row's site. Guided or summed out together, both work.
    func testAGuideEnumeratedSiteSharingATermWithAGlobalSummedSiteIsRefused() throws {
        let model = Model("shared switch") { (x: Tensor, n: Int) in
            let g = latent("g") ~ Bernoulli(probs: 0.5)
            plate("data", size: n, subsample: x) {
                let y = latent("y") ~ Categorical(probs: Tensor([[0.8, 0.2], [0.3, 0.7]])[g])
                observe("x", x) ~ Normal(Tensor([-1, 1])[y], 1)
            }
        }
        let x = Tensor([-1.2, 0.9, 1.4, -0.3])
        var options = CompilerOptions()
        options.estimators = ["g": .marginalized]
        XCTAssertThrowsError(try Amortized(model, options: options).elbo(x, datasetSize: 4)) { error in
            XCTAssertTrue("\(error)".hasPrefix("site 'y' at ZooTests/DiscreteLatentTests.swift:\(#line - 8) cannot be summed out exactly: the guide enumerates it, and it shares a term with a site summed out in the model"), "\(error)")
        }
        options.estimators = ["g": .marginalized, "y": .marginalized]
        let values = x.scalars.map(Double.init)
        let exact = logSumExp((0..<2).map { g in
            Foundation.log(0.5) + values.map { value in
                logSumExp((0..<2).map { y in Foundation.log([[0.8, 0.2], [0.3, 0.7]][g][y]) + normalLogDensity(value, [-1.0, 1.0][y], 1) })
            }.reduce(0, +)
        })
        XCTAssertEqual(Double(try Amortized(model, options: options).elbo(x, datasetSize: 4)), exact, accuracy: 1e-4)
        XCTAssertLessThanOrEqual(Double(try Amortized(model).elbo(x, datasetSize: 4)), exact + 1e-4)
    }

    /// A noisy-OR network per row: three binary causes (one vector site), four binary effects,
    /// P(effect k on) = 1 - 0.95 prod_j (1 - W_jk)^c_j. The guide is a categorical over the 8
    /// configurations of the causes, so it can match the exact posterior with its explaining
    /// away (defect: the vector fell to a Poisson head and failed at the first step).
    func testNoisyOrWithAVectorOfBinaryCauses() throws {
        let strengths = Tensor([[0.9, 0.6, 0.0, 0.2], [0.0, 0.7, 0.8, 0.1], [0.5, 0.0, 0.6, 0.9]])
        let model = Model("noisy-or") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let causes = latent("causes") ~ Bernoulli(probs: Tensor([0.2, 0.3, 0.1])).independent(1)
                let off = 0.95 * exp(matmul(causes, log1p(-strengths)))
                observe("effects", x) ~ Bernoulli(probs: 1 - off).independent(1)
            }
        }
        var generator = RandomGenerator(seed: 61)
        let causes = Tensor.randomBernoulli(probabilities: Tensor([0.2, 0.3, 0.1]).expanded(to: [300, 3]), using: &generator)
        let on = 1 - 0.95 * exp(matmul(causes, log1p(-strengths)))
        let x = Tensor.randomBernoulli(probabilities: on, using: &generator)
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [32], activation: .tanh))
        let plan = try vi.compile(example: x, datasetSize: 300)
        XCTAssertEqual(plan["causes"]?.family, "Categorical(8)")
        XCTAssertEqual(plan["causes"]?.estimator, .enumerated)
        try trainToConvergence(vi, x, steps: 1500, learningRate: 0.02, particles: 1)
        let comparison = try vi.compareWithExactPosterior(x, site: "causes")
        XCTAssertLessThan(comparison.meanKL, 0.01, "mean KL(q || p(causes | effects))")
        let exact = Double(try model.logMarginalLikelihood(x, 300).scalar)
        try assertELBOIsATightBound(vi, x, logLikelihood: exact, gap: 0.01 * 300)
        let estimate = Double(try vi.importanceSampledLogLikelihood(x, samples: 1).sum().scalar)
        XCTAssertEqual(estimate, exact, accuracy: 1e-5 * abs(exact), "every latent summed exactly: the weight is p(x)")
    }
}

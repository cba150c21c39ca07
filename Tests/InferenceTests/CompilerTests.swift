import Distributions
import Inference
import NN
import PPL
import TensorCore
import XCTest

/// The guide the compiler derives for each kind of site.
final class CompilerTests: XCTestCase {
    func testMixturePlanHasAnEnumeratedCategoricalHead() throws {
        let gmm = Model("gmm") { (x: Tensor, n: Int) in
            let weights = param("weights", Tensor.ones([3]) / 3, constraint: .simplex)
            let locs = param("locs", Tensor([[0, 0], [1, 1], [2, 2]]))
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Categorical(probs: weights)
                observe("x", x) ~ Normal(locs[z], 1).independent(1)
            }
        }
        let vi = Amortized(gmm, options: CompilerOptions(hiddenSizes: [32], activation: .tanh))
        let plan = try vi.compile(example: Tensor.zeros([8, 2]), datasetSize: 100)
        let z = try XCTUnwrap(plan["z"])
        XCTAssertEqual(z.family, "Categorical(3)")
        XCTAssertEqual(z.estimator, .enumerated)
        XCTAssertEqual(z.plate?.name, "data")
        XCTAssertEqual(z.parameterCount, 2 * 32 + 32 + 32 * 3 + 3)
        XCTAssertTrue(plan.description.contains("Categorical(3)"))
    }

    func testVAEPlanUsesTheAnalyticKL() throws {
        let vae = Model("vae") { (x: Tensor, n: Int) in
            let decoder = module("decoder", MLP([4, 16, 10]))
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1).expanded(to: [4]).independent(1)
                observe("x", x) ~ Bernoulli(logits: decoder(z)).independent(1)
            }
        }
        let plan = try Amortized(vae, options: CompilerOptions(hiddenSizes: [16])).compile(example: Tensor.zeros([5, 10]), datasetSize: 50)
        let z = try XCTUnwrap(plan["z"])
        XCTAssertEqual(z.family, "Normal")
        XCTAssertEqual(z.estimator, .analyticKL)
        XCTAssertEqual(z.bijectorName, "identity")
        XCTAssertEqual(z.parameterCount, 10 * 16 + 16 + 16 * 8 + 8)
    }

    func testConstrainedGlobalAndDiscreteSites() throws {
        let model = Model("mixed") { (x: Tensor, n: Int) in
            let rate = latent("rate") ~ Gamma(concentration: 2, rate: 1)
            let mix = latent("mix") ~ Dirichlet(Tensor([1, 1, 1]))
            let center = latent("center") ~ Normal(0, 1)
            plate("data", size: n, subsample: x) {
                let count = latent("count") ~ Poisson(rate: rate)
                observe("x", x) ~ Normal(count + center + mix.sum(), 1)
            }
        }
        var options = CompilerOptions(hiddenSizes: [8])
        options.pointEstimates = ["center"]
        let plan = try Amortized(model, options: options).compile(example: Tensor.zeros([4]), datasetSize: 4)
        XCTAssertEqual(plan["rate"]?.plate, nil)
        XCTAssertEqual(plan["rate"]?.bijectorName, "exp")
        XCTAssertEqual(plan["rate"]?.estimator, .reparameterized)
        XCTAssertEqual(plan["rate"]?.parameterCount, 2)
        XCTAssertEqual(plan["mix"]?.bijectorName, "stick-breaking")
        XCTAssertEqual(plan["mix"]?.inputs, ["rate"], "a global head is fed the upstream global latents")
        XCTAssertEqual(plan["mix"]?.parameterCount, 4 + 4 * 1, "two unconstrained coordinates with a loc and a scale each, plus a weight per output from 'rate'")
        XCTAssertEqual(plan["center"]?.family, "Delta")
        XCTAssertEqual(plan["count"]?.family, "Poisson")
        XCTAssertEqual(plan["count"]?.estimator, .scoreFunction)
    }

    func testUserHeadOfTheWrongSizeIsAnError() {
        let model = Model("m") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1)
                observe("x", x) ~ Normal(z, 1)
            }
        }
        var options = CompilerOptions()
        options.heads["z"] = MLP([1, 5, 3])
        XCTAssertThrowsError(try Amortized(model, options: options).compile(example: Tensor.zeros([4]), datasetSize: 4)) { error in
            XCTAssertEqual("\(error)", "site 'z' at InferenceTests/CompilerTests.swift:73: the custom head maps 1 inputs to 3 outputs; this site's head takes 1 inputs (data) and outputs 2")
        }
    }
}

/// A full-covariance head learns a correlated posterior.
final class FullCovarianceTests: XCTestCase {
    /// x = z_1 + z_2 + noise makes the posterior of (z_1, z_2) negatively correlated, which a
    /// full-covariance guide can represent and a diagonal one cannot: its ELBO ends higher.
    func testFullCovarianceHeadBeatsDiagonalOnACorrelatedPosterior() throws {
        let model = Model("sum") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1).expanded(to: [2]).independent(1)
                observe("x", x) ~ Normal(z.sum(axis: -1), 0.1)
            }
        }
        var generator = RandomGenerator(seed: 4)
        let x = Tensor.randomNormal([200], using: &generator) * 1.4
        var full = CompilerOptions(hiddenSizes: [16], activation: .tanh)
        full.fullCovariance = true
        let diagonal = CompilerOptions(hiddenSizes: [16], activation: .tanh)
        var results: [Float] = []
        for options in [full, diagonal] {
            let vi = Amortized(model, options: options, seed: 1)
            XCTAssertEqual(try vi.compile(example: x.slice(axis: 0, 0..<50), datasetSize: 200)["z"]?.family, options.fullCovariance ? "MultivariateNormal" : "Normal")
            var training = TrainingOptions(epochs: 150, batchSize: 50, optimizer: .adam(learningRate: 0.01))
            training.seed = 2
            _ = try vi.fit(x, options: training)
            results.append(try vi.elbo(x, particles: 200) / 200)
        }
        // The posterior correlation is -0.99, so the best diagonal guide loses log(1 / (1 - rho^2)) / 2 = 2.0 nats a point.
        XCTAssertGreaterThan(results[0], results[1] + 0.5, "full \(results[0]) vs diagonal \(results[1])")
    }
}

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
        XCTAssertEqual(z.family, .categorical(count: 3))
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
        XCTAssertEqual(z.family, .normal)
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
        XCTAssertEqual(plan["mix"]?.parameterCount, 4, "two unconstrained coordinates, a loc and a scale each")
        XCTAssertEqual(plan["center"]?.family, .delta)
        XCTAssertEqual(plan["count"]?.family, .poisson)
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
            XCTAssertEqual("\(error)", "site 'z': the custom head must output 2 numbers per datapoint, it outputs 3")
        }
    }
}

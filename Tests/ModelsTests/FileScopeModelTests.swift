import Latent
import XCTest

/// A model declared at file scope, as the README writes them, in a file that is not
/// `main.swift`: in Swift 6 language mode this compiles only because `Model` is `Sendable`.
let coin = Model("coin") { (flips: Tensor, n: Int) in
    let bias = latent("bias") ~ Beta(2, 2)
    plate("flips", size: n, subsample: flips) {
        observe("flip", flips) ~ Bernoulli(probs: bias)
    }
}

// The README's "A model in ten lines", verbatim from `/// Kingma` to the closing brace.
/// Kingma & Welling's MNIST model: z ~ N(0, I), x ~ Bernoulli(decoder(z)).
let vae = Model("bernoulli-vae") { (x: Tensor, datasetSize: Int) in
    let decoder = module("decoder", MLP([20, 400, 784], activation: .relu))
    plate("data", size: datasetSize, subsample: x) {            // scales by N/M
        let z = latent("z") ~ Normal(0, 1).expanded(to: [20]).independent(1)
        observe("x", x) ~ Bernoulli(logits: decoder(z)).independent(1)
    }
}

func train(on images: Tensor) throws -> Amortized<Tensor> {
    let vi = Amortized(vae)                    // derives q(z|x): an encoder with a Normal head
    print(try vi.compile(example: images, datasetSize: images.shape[0]))   // the plan, per site
    try vi.fit(images, options: TrainingOptions(epochs: 4, batchSize: 128))
    return vi
}

final class FileScopeModelTests: XCTestCase {
    func testTheReadmesFirstExampleCompilesAndTrains() throws {
        var generator = RandomGenerator(seed: 3)
        let images = Tensor.randomUniform([32, 784], using: &generator).mapped { $0 > 0.8 ? 1 : 0 }
        let vi = try train(on: images)
        XCTAssertEqual(vi.plan?["z"]?.estimator, .analyticKL)
        XCTAssertEqual(vi.plan?.parameterCount, 784 * 400 + 400 + 400 * 40 + 40)
        XCTAssertTrue(try vi.elbo(images).isFinite)
    }

    func testAFileScopeModelTrains() throws {
        let flips = Tensor([1, 1, 0, 1, 1, 1, 0, 1])
        let vi = Amortized(coin)
        _ = try vi.fit(flips, options: TrainingOptions(epochs: 400, batchSize: 8, optimizer: .adam(learningRate: 0.05)))
        // Beta(2 + 6, 2 + 2) has mean 2/3; the logit-normal guide lands within 0.05 of it.
        let mean = try XCTUnwrap(vi.posteriorSummary(flips)["bias"]).mean.scalar
        XCTAssertEqual(mean, 8.0 / 12, accuracy: 0.05)
    }
}

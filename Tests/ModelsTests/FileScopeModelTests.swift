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

final class FileScopeModelTests: XCTestCase {
    func testAFileScopeModelTrains() throws {
        let flips = Tensor([1, 1, 0, 1, 1, 1, 0, 1])
        let vi = Amortized(coin)
        _ = try vi.fit(flips, options: TrainingOptions(epochs: 400, batchSize: 8, optimizer: .adam(learningRate: 0.05)))
        // Beta(2 + 6, 2 + 2) has mean 2/3; the logit-normal guide lands within 0.05 of it.
        let mean = try XCTUnwrap(vi.posteriorSummary(flips)["bias"]).mean.scalar
        XCTAssertEqual(mean, 8.0 / 12, accuracy: 0.05)
    }
}

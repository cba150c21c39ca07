import Foundation
import Distributions
import Inference
import PPL
import TensorCore
import XCTest

/// The two anomaly scores' parts: the ROC AUC against hand-counted cases, and An & Cho's
/// reconstruction probability against its closed form for a Normal decoder.
final class AnomalyScoreTests: XCTestCase {
    func testAreaUnderROCCountsPairsAndHalvesTies() {
        // Positives 0.4 and 0.8 beat both negatives: 4 of 4 pairs.
        XCTAssertEqual(areaUnderROC(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, true, false, true]), 1)
        // Positives {2, 3}, negatives {1, 2}: 2 > 1, 2 = 2 (one half), 3 > 1, 3 > 2: 3.5 of 4.
        XCTAssertEqual(areaUnderROC(scores: [1, 2, 2, 3], positives: [false, true, false, true]), 0.875)
        // Reversed: every negative beats every positive.
        XCTAssertEqual(areaUnderROC(scores: [5, 1, 6, 2, 7], positives: [false, true, false, true, false]), 0)
        XCTAssertNil(areaUnderROC(scores: [1, 2], positives: [true, true]))
        XCTAssertNil(areaUnderROC(scores: [1], positives: [true, false]))
    }

    /// x ~ N(z, 1), z ~ N(0, 1), with a trained Normal guide q(z | x) = N(m, s^2):
    /// E_q[log p(x | z)] = -log(2 pi) / 2 - ((x - m)^2 + s^2) / 2, for each row.
    func testReconstructionProbabilityMatchesItsClosedForm() throws {
        let model = Model("normal") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1)
                observe("x", x) ~ Normal(z, 1)
            }
        }
        var generator = RandomGenerator(seed: 11)
        let x = Tensor.randomNormal([200], using: &generator) * 1.4
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: []))
        try vi.fit(x, options: TrainingOptions(epochs: 100, batchSize: 50, optimizer: .adam(learningRate: 0.05)))
        let q = try XCTUnwrap(try vi.posterior(x)["z"] as? Normal)
        let (loc, scale) = (q.loc.scalars.map(Double.init), q.scale.scalars.map(Double.init))
        let scores = try vi.reconstructionLogProbability(x, samples: 4000).scalars.map(Double.init)
        for row in 0..<200 {
            let value = Double(x.scalars[row]), (m, s) = (loc[row], scale[row])
            let expected = -0.5 * log(2 * Double.pi) - 0.5 * ((value - m) * (value - m) + s * s)
            // Var of (x - z)^2 / 2 under q is s^2 (x - m)^2 + s^4 / 2; three standard errors of the mean of 4000 draws.
            let tolerance = 3 * ((s * s * (value - m) * (value - m) + pow(s, 4) / 2) / 4000).squareRoot() + 1e-4
            XCTAssertEqual(scores[row], expected, accuracy: tolerance, "row \(row)")
        }
    }
}

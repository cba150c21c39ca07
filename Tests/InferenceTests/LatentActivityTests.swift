import Foundation
import Distributions
import Inference
import PPL
import TensorCore
import XCTest

/// Latent activity against closed forms: x = z_1 (1, 1, 1) + 0.1 noise, with z_2 unused. The
/// exact posterior of z_1 is N(100 sum(x) / 301, 1 / 301) and that of z_2 its prior, so the
/// KL per coordinate is 0.5 (log 301 + 1/301 + E[m^2] - 1), about 2.85 nats, and 0.
final class LatentActivityTests: XCTestCase {
    let model = Model("collapse") { (x: Tensor, n: Int) in
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(0, 1).expanded(to: [2]).independent(1)
            observe("x", x) ~ Normal(matmul(z, Tensor([[1, 1, 1], [0, 0, 0]])), 0.1).independent(1)
        }
    }

    func testAnUnusedCoordinateIsInactiveAndTheUsedOneHasTheExactKL() throws {
        var generator = RandomGenerator(seed: 4)
        let z = Tensor.randomNormal([500, 1], using: &generator)
        let x = matmul(z, Tensor([[1, 1, 1]])) + 0.1 * Tensor.randomNormal([500, 3], using: &generator)
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: []))
        var options = TrainingOptions(epochs: 600, batchSize: 100, optimizer: .adam(learningRate: 0.05))
        options.schedule = .cosine(steps: 3000, minimum: 0.02)
        _ = try vi.fit(x, options: options)

        let report = try XCTUnwrap(try vi.latentActivity(x).first)
        XCTAssertEqual(report.site, "z")
        let kl = try XCTUnwrap(report.klPerCoordinate)
        let sums = (0..<500).map { row in (0..<3).map { Double(x.scalars[3 * row + $0]) }.reduce(0, +) }
        let exactMeans = sums.map { 100 * $0 / 301 }
        let meanSquare: Double = exactMeans.map { $0 * $0 }.reduce(0, +) / 500
        let exactKL: Double = 0.5 * (log(301.0) + 1.0 / 301 + meanSquare - 1)
        XCTAssertEqual(kl[0], exactKL, accuracy: 0.05, "the used coordinate")
        XCTAssertEqual(kl[1], 0, accuracy: 0.02, "the unused coordinate")
        let meanOfMeans = exactMeans.reduce(0, +) / 500
        let exactActivity = exactMeans.map { ($0 - meanOfMeans) * ($0 - meanOfMeans) }.reduce(0, +) / 499
        XCTAssertEqual(report.activity[0], exactActivity, accuracy: 0.02 * exactActivity)
        XCTAssertLessThan(report.activity[1], LatentActivity.activeThreshold)
        XCTAssertEqual(report.activeCoordinates, 1)

        // The same figures from the guide's own distribution, computed here in Double.
        let q = try XCTUnwrap(try vi.posterior(x)["z"] as? Independent<Normal>)
        let (loc, scale) = (q.base.loc.scalars.map(Double.init), q.base.scale.scalars.map(Double.init))
        for coordinate in 0..<2 {
            let terms = (0..<500).map { row in
                let (m, s) = (loc[2 * row + coordinate], scale[2 * row + coordinate])
                return -log(s) + (s * s + m * m - 1) / 2
            }
            XCTAssertEqual(kl[coordinate], terms.reduce(0, +) / 500, accuracy: 1e-4)
        }
    }
}

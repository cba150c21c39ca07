import Foundation
import Distributions
import Inference
import PPL
import TensorCore
import XCTest

/// Conditioning on some entries against brute force: z ~ N(0, 1), x_d ~ Bernoulli(sigmoid(w_d z
/// + b_d)) for d = 1...4, with x_1, x_2 observed. p(x_3, x_4 | x_1, x_2) and E[x_3 | x_1, x_2]
/// come from quadrature over z on a fine grid; the importance-sampled ones must agree.
final class ConditionalCompletionTests: XCTestCase {
    static let w = [2.0, -1.5, 1.0, 2.5], b = [0.5, 0.0, -0.5, 1.0]

    let model = Model("binary factor") { (x: Tensor, n: Int) in
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(0, 1)
            observe("x", x) ~ Bernoulli(logits: z.unsqueezed(axis: -1) * Tensor(w.map(Float.init)) + Tensor(b.map(Float.init))).independent(1)
        }
    }

    /// `log p(x_mis | x_obs)` and `E[x_mis | x_obs]` by the trapezoid rule on [-9, 9].
    func bruteForce(_ x: [Double], observed: [Bool]) -> (logLikelihood: Double, means: [Double]) {
        var joint = 0.0, evidence = 0.0, means = [Double](repeating: 0, count: 4)
        let step = 18.0 / 8000
        for i in 0...8000 {
            let z = -9 + Double(i) * step
            let weight = (i == 0 || i == 8000 ? 0.5 : 1) * step * exp(-z * z / 2) / (2 * Double.pi).squareRoot()
            let p = (0..<4).map { 1 / (1 + exp(-(Self.w[$0] * z + Self.b[$0]))) }
            let likelihood = { (d: Int) in x[d] == 1 ? p[d] : 1 - p[d] }
            let observedPart = (0..<4).filter { observed[$0] }.map(likelihood).reduce(1, *)
            evidence += weight * observedPart
            joint += weight * observedPart * (0..<4).filter { !observed[$0] }.map(likelihood).reduce(1, *)
            for d in 0..<4 { means[d] += weight * observedPart * p[d] }
        }
        return (log(joint / evidence), means.map { $0 / evidence })
    }

    func testImportanceSampledConditionalAgreesWithQuadrature() throws {
        var generator = RandomGenerator(seed: 8)
        let z = Tensor.randomNormal([2000, 1], using: &generator)
        let x = Tensor.randomBernoulli(probabilities: sigmoid(z * Tensor(Self.w.map(Float.init)) + Tensor(Self.b.map(Float.init))), using: &generator)
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [16]))
        try vi.fit(x, options: TrainingOptions(epochs: 30, batchSize: 100, optimizer: .adam(learningRate: 0.01)))

        let rows = Tensor([[1, 0, 1, 1], [0, 1, 0, 0], [1, 1, 0, 1]])
        let observed = Tensor([[1, 1, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]])
        let result = try vi.conditionalCompletion(rows, observed: observed, proposalInput: select(observed, rows, Tensor(0.5)), proposals: 20000, draws: 5)
        XCTAssertEqual(result.completions.shape, [5, 3, 4])
        for row in 0..<3 {
            let values = (0..<4).map { Double(rows.scalars[row * 4 + $0]) }
            let exact = bruteForce(values, observed: [true, true, false, false])
            XCTAssertEqual(Double(result.missingLogLikelihood.scalars[row]), exact.logLikelihood, accuracy: 0.02, "row \(row)")
            for d in 2..<4 { XCTAssertEqual(Double(result.mean.scalars[row * 4 + d]), exact.means[d], accuracy: 0.02, "row \(row), entry \(d)") }
            XCTAssertEqual(Array(result.mean.scalars[(row * 4)..<(row * 4 + 2)]), Array(rows.scalars[(row * 4)..<(row * 4 + 2)]), "observed entries kept")
            XCTAssertGreaterThan(result.effectiveSampleSize.scalars[row], 100, "row \(row)")
        }
    }
}

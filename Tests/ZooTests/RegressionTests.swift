import Foundation
import Latent
import XCTest

/// Bayesian linear regression with covariates: rows of a table (x, y), w ~ N(0, I),
/// y_n ~ N(x_n . w, 0.5^2). Posterior N(mu, Sigma) with Sigma = (I + X^T X / s^2)^-1 and
/// mu = Sigma X^T y / s^2; evidence N(y; 0, s^2 I + X X^T).
final class RegressionTests: XCTestCase {
    static let noise: Float = 0.5

    let model = Model("regression") { (data: Table, n: Int) in
        let w = latent("w") ~ Normal(0, 1).expanded(to: [3]).independent(1)
        plate("data", size: n, subsample: data) {
            let mean = matmul(data["x"], w.unsqueezed(axis: -1)).reshaped(to: [-1])
            observe("y", data["y"]) ~ Normal(mean, 0.5)
        }
    }

    func data() throws -> (table: Table, x: Matrix, y: [Double]) {
        var generator = RandomGenerator(seed: 21)
        let x = Tensor.randomNormal([40, 3], using: &generator)
        let y = matmul(x, Tensor([[1], [-2], [0.5]])).reshaped(to: [-1]) + RegressionTests.noise * Tensor.randomNormal([40], using: &generator)
        return (try Table(["x": x, "y": y]), Matrix(40, 3, x.scalars.map(Double.init)), y.scalars.map(Double.init))
    }

    func testConjugatePosteriorMeanAndCovariance() throws {
        let (table, x, y) = try data()
        let s2 = Double(Self.noise * Self.noise)
        let covariance = (Matrix.identity(3) + (1 / s2) * (x.transposed * x)).inverse
        let mean = covariance.times(x.transposed.times(y).map { $0 / s2 })
        let evidence = gaussianLogDensity(y, mean: [Double](repeating: 0, count: 40), covariance: s2 * Matrix.identity(40) + x * x.transposed)

        var options = CompilerOptions()
        options.fullCovariance = true
        let vi = Amortized(model, options: options)
        let plan = try vi.compile(example: table, datasetSize: 40)
        XCTAssertEqual(plan["w"]?.family, "MultivariateNormal")
        XCTAssertEqual(plan["w"]?.estimator, .analyticKL)
        try trainToConvergence(vi, table, steps: 1500, learningRate: 0.03)

        let sds = (0..<3).map { covariance[$0, $0].squareRoot() }
        try assertMoments(vi, table, site: "w", exact: ExactMoments(mean: mean, sd: sds))
        let q = try XCTUnwrap(vi.posterior(table)["w"] as? MultivariateNormal)
        let factor = Matrix(3, 3, q.scaleTril.scalars.map(Double.init))
        let learned = factor * factor.transposed
        for i in 0..<3 {
            for j in 0..<3 {
                // A covariance entry within 0.1 of the product of the two standard deviations:
                // a correlation off by 0.1 costs about 0.005 nats.
                XCTAssertEqual(learned[i, j], covariance[i, j], accuracy: 0.1 * sds[i] * sds[j], "covariance [\(i), \(j)]")
            }
        }
        try assertELBOIsATightBound(vi, table, logLikelihood: evidence, gap: 0.05)
        try assertImportanceSamplingMatches({ Double(try vi.importanceSampledLogMarginalLikelihood(table, samples: 500, seed: $0)) }, logLikelihood: evidence)
    }

    /// Minibatches of 10 rows, with the covariates cut the same way as the responses, reach
    /// the same posterior mean.
    func testMinibatchesOfATableKeepRowsTogether() throws {
        let (table, x, y) = try data()
        let s2 = Double(Self.noise * Self.noise)
        let covariance = (Matrix.identity(3) + (1 / s2) * (x.transposed * x)).inverse
        let mean = covariance.times(x.transposed.times(y).map { $0 / s2 })
        var options = CompilerOptions()
        options.fullCovariance = true
        let vi = Amortized(model, options: options)
        try trainToConvergence(vi, table, steps: 2000, learningRate: 0.02, batchSize: 10)
        let sds = (0..<3).map { covariance[$0, $0].squareRoot() }
        try assertMoments(vi, table, site: "w", exact: ExactMoments(mean: mean, sd: sds), meanTolerance: 0.15, sdTolerance: 0.15)
    }
}

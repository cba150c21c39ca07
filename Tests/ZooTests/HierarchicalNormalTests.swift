import Foundation
import Latent
import XCTest

/// Two plates: mu ~ N(0, 5^2); theta_j ~ N(mu, 1) for 4 groups; x_nj ~ N(theta_j, 1) for rows n
/// (the data plate, at dimension -2) and groups j. The posterior of (mu, theta) is Gaussian
/// with precision P: mu 1/25 + 4, theta_j 1 + N, mu-theta_j -1, and mean P^-1 (0, sum_n x_nj).
final class HierarchicalNormalTests: XCTestCase {
    func testTwoPlateHierarchicalNormal() throws {
        let model = Model("hierarchical normal") { (x: Tensor, n: Int) in
            let mu = latent("mu") ~ Normal(0, 5)
            plate("groups", size: 4, dim: -1) {
                let theta = latent("theta") ~ Normal(mu, 1)
                plate("data", size: n, subsample: x, dim: -2) {
                    observe("x", x) ~ Normal(theta, 1)
                }
            }
        }
        var generator = RandomGenerator(seed: 71)
        let x = Tensor([[2, -1, 0.5, 3]]) + Tensor.randomNormal([6, 4], using: &generator)
        let rows = 6.0
        var precision = Matrix(5, 5)
        precision[0, 0] = 1.0 / 25 + 4
        for j in 1...4 {
            precision[j, j] = 1 + rows
            precision[0, j] = -1
            precision[j, 0] = -1
        }
        let values = x.scalars.map(Double.init)
        let sums = [0.0] + (0..<4).map { j in (0..<6).map { values[$0 * 4 + j] }.reduce(0, +) }
        let covariance = precision.inverse
        let mean = covariance.times(sums)
        var joint = normalLogDensity(mean[0], 0, 5)
        for j in 0..<4 {
            joint += normalLogDensity(mean[j + 1], mean[0], 1)
            for n in 0..<6 { joint += normalLogDensity(values[n * 4 + j], mean[j + 1], 1) }
        }
        let logEvidence = joint - (0.5 * precision.logDeterminant - 2.5 * Foundation.log(2 * Double.pi))

        let vi = Amortized(model)
        let plan = try vi.compile(example: x, datasetSize: 6)
        XCTAssertEqual(plan["theta"]?.plate, nil, "theta is global: inside the groups plate, outside the data plate")
        XCTAssertEqual(plan["theta"]?.inputs, ["mu"], "theta's guide is fed mu, so q(mu) q(theta | mu) can be the posterior")
        try trainToConvergence(vi, x, steps: 2000, learningRate: 0.03)
        let sds = (0..<5).map { covariance[$0, $0].squareRoot() }
        try assertMoments(vi, x, site: "mu", exact: ExactMoments(mean: [mean[0]], sd: [sds[0]]))
        try assertMoments(vi, x, site: "theta", exact: ExactMoments(mean: Array(mean[1...]), sd: Array(sds[1...])))
        try assertELBOIsATightBound(vi, x, logLikelihood: logEvidence, gap: 0.05)
        try assertImportanceSamplingMatches({ Double(try vi.importanceSampledLogMarginalLikelihood(x, samples: 500, seed: $0)) }, logLikelihood: logEvidence)
    }
}

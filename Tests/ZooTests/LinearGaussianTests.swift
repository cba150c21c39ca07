import Foundation
import Latent
import XCTest

/// Linear-Gaussian latent models with local latents: factor analysis (maximum likelihood by EM,
/// exact Gaussian posterior) and a state-space model (the Kalman filter and smoother).
final class LinearGaussianTests: XCTestCase {
    /// x = z W + mu + noise, z ~ N(0, I_2), noise ~ N(0, diag(psi)), in 5 dimensions. Training
    /// reaches EM's maximum likelihood; given the learned parameters the posterior of z_n is
    /// N(G W Psi^-1 (x_n - mu), G) with G = (I + W Psi^-1 W^T)^-1, which the full-covariance
    /// linear encoder can represent.
    func testFactorAnalysisAgainstEMAndTheExactPosterior() throws {
        let model = Model("factor analysis") { (x: Tensor, n: Int) in
            let loadings = param("loadings", initializer: { Tensor.randomNormal([2, 5], using: &$0) * 0.1 })
            let mean = param("mean", Tensor.zeros([5]))
            let noise = param("noise", Tensor.ones([5]), constraint: .positive)
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1).expanded(to: [2]).independent(1)
                observe("x", x) ~ Normal(matmul(z, loadings) + mean, noise).independent(1)
            }
        }
        var generator = RandomGenerator(seed: 91)
        let trueLoadings = Tensor([[1, 0.5, -1, 0, 2], [0, 1.5, 0.5, -1, 0.3]])
        let x = matmul(Tensor.randomNormal([500, 2], using: &generator), trueLoadings) + Tensor([1, -1, 0, 2, 0.5])
            + Tensor([0.3, 0.5, 0.4, 0.8, 0.2]) * Tensor.randomNormal([500, 5], using: &generator)
        let rows = (0..<500).map { n in x.scalars[(5 * n)..<(5 * n + 5)].map(Double.init) }

        var options = CompilerOptions(hiddenSizes: [])
        options.fullCovariance = true
        let vi = Amortized(model, options: options)
        try trainToConvergence(vi, x, steps: 3000, learningRate: 0.02, particles: 1, batchSize: 100)
        let w = Matrix(2, 5, vi.parameters["loadings"]!.scalars.map(Double.init))
        let mu = vi.parameters["mean"]!.scalars.map(Double.init)
        let psi = vi.parameters["noise"]!.scalars.map { Double($0) * Double($0) }
        let covariance = w.transposed * w + Matrix(5, 5, (0..<25).map { $0 % 6 == 0 ? psi[$0 / 6] : 0 })
        let learned = rows.map { gaussianLogDensity($0, mean: mu, covariance: covariance) }.reduce(0, +)
        let maximum = emMaximumLikelihood(rows)
        // Within 0.01 nats per row of the maximum: SGD on minibatches ends in its neighbourhood.
        XCTAssertEqual(learned / 500, maximum / 500, accuracy: 0.01, "log-likelihood per row against EM")

        var inversePsiW = w
        for i in 0..<2 { for j in 0..<5 { inversePsiW[i, j] /= psi[j] } }
        let g = (Matrix.identity(2) + inversePsiW * w.transposed).inverse
        var means: [Double] = [], sds: [Double] = []
        for row in rows {
            let centered = zip(row, mu).map(-)
            means += g.times(inversePsiW.times(centered))
            sds += [g[0, 0].squareRoot(), g[1, 1].squareRoot()]
        }
        try assertMoments(vi, x, site: "z", exact: ExactMoments(mean: means, sd: sds))
        try assertELBOIsATightBound(vi, x, logLikelihood: learned, gap: 0.005 * 500)
        try assertImportanceSamplingMatches({ Double(try vi.importanceSampledLogLikelihood(x, samples: 20, seed: $0).sum().scalar) }, logLikelihood: learned)
    }

    /// EM for factor analysis with 2 factors, in Double: the maximum log-likelihood of `rows`.
    func emMaximumLikelihood(_ rows: [[Double]]) -> Double {
        let n = Double(rows.count), d = rows[0].count
        let mu = (0..<d).map { j in rows.map { $0[j] }.reduce(0, +) / n }
        let centered = rows.map { zip($0, mu).map(-) }
        var scatter = Matrix(d, d)
        for row in centered { for i in 0..<d { for j in 0..<d { scatter[i, j] += row[i] * row[j] / n } } }
        var w = Matrix(2, d, (0..<(2 * d)).map { 0.1 * Double(($0 * 7) % 5 - 2) })
        var psi = (0..<d).map { scatter[$0, $0] }
        for _ in 0..<500 {
            var scaled = w
            for i in 0..<2 { for j in 0..<d { scaled[i, j] /= psi[j] } }
            let g = (Matrix.identity(2) + scaled * w.transposed).inverse
            let projection = g * scaled
            var moments = Matrix(2, 2), cross = Matrix(2, d)
            for row in centered {
                let ez = projection.times(row)
                for i in 0..<2 {
                    for j in 0..<2 { moments[i, j] += (g[i, j] + ez[i] * ez[j]) / n }
                    for j in 0..<d { cross[i, j] += ez[i] * row[j] / n }
                }
            }
            w = moments.inverse * cross
            let explained = w.transposed * cross
            psi = (0..<d).map { max(scatter[$0, $0] - explained[$0, $0], 1e-6) }
        }
        let covariance = w.transposed * w + Matrix(d, d, (0..<(d * d)).map { $0 % (d + 1) == 0 ? psi[$0 / (d + 1)] : 0 })
        return rows.map { gaussianLogDensity($0, mean: mu, covariance: covariance) }.reduce(0, +)
    }

    /// z_1 ~ N(0, 1), z_t ~ N(0.8 z_{t-1}, 0.5^2), x_t ~ N(z_t, 0.7^2) over T = 8 steps, a
    /// sequence per row. Each z_t's head is fed the row and the earlier z's, so the linear
    /// encoder can be the exact posterior p(z_t | z_{t-1}, x); the Kalman filter gives log p(x)
    /// and the smoother the marginals.
    func testStateSpaceModelAgainstTheKalmanSmoother() throws {
        let steps = 8
        let model = Model("state space") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                var z = Tensor(0)
                for t in 0..<steps {
                    z = latent("z \(t)") ~ Normal(t == 0 ? Tensor(0) : 0.8 * z, t == 0 ? Tensor(1) : Tensor(0.5))
                    observe("x \(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(z, 0.7)
                }
            }
        }
        var generator = RandomGenerator(seed: 101)
        var sequences: [[Double]] = []
        for _ in 0..<40 {
            var z = 0.0, row: [Double] = []
            for t in 0..<steps {
                let noise = Tensor.randomNormal([2], using: &generator).scalars.map(Double.init)
                z = t == 0 ? noise[0] : 0.8 * z + 0.5 * noise[0]
                row.append(z + 0.7 * noise[1])
            }
            sequences.append(row)
        }
        let x = Tensor(shape: [40, steps], scalars: sequences.flatMap { $0.map(Float.init) })
        let vi = Amortized(model, options: CompilerOptions(hiddenSizes: []))
        let plan = try vi.compile(example: x, datasetSize: 40)
        XCTAssertEqual(plan["z 3"]?.inputs, ["data", "z 0", "z 1", "z 2"])
        try trainToConvergence(vi, x, steps: 2500, learningRate: 0.01, particles: 2)

        var logLikelihood = 0.0
        var means = [[Double]](repeating: [], count: steps), sds = [[Double]](repeating: [], count: steps)
        for row in sequences {
            let (rowLogLikelihood, smoothed) = kalmanSmoother(row)
            logLikelihood += rowLogLikelihood
            for t in 0..<steps {
                means[t].append(smoothed[t].mean)
                sds[t].append(smoothed[t].variance.squareRoot())
            }
        }
        for t in [0, 4, 7] {
            try assertMoments(vi, x, site: "z \(t)", exact: ExactMoments(mean: means[t], sd: sds[t]), meanTolerance: 0.15, sdTolerance: 0.15)
        }
        try assertELBOIsATightBound(vi, x, logLikelihood: logLikelihood, gap: 0.02 * 40)
        try assertImportanceSamplingMatches({ Double(try vi.importanceSampledLogLikelihood(x, samples: 50, seed: $0).sum().scalar) }, logLikelihood: logLikelihood)
    }

    /// The Kalman filter's log-likelihood and the Rauch-Tung-Striebel smoother's marginals.
    func kalmanSmoother(_ x: [Double]) -> (logLikelihood: Double, marginals: [(mean: Double, variance: Double)]) {
        let (a, q, r) = (0.8, 0.25, 0.49)
        var filtered: [(mean: Double, variance: Double)] = [], predicted: [(mean: Double, variance: Double)] = []
        var logLikelihood = 0.0
        for t in 0..<x.count {
            let prior = t == 0 ? (mean: 0.0, variance: 1.0) : (mean: a * filtered[t - 1].mean, variance: a * a * filtered[t - 1].variance + q)
            predicted.append(prior)
            let innovation = prior.variance + r
            logLikelihood += normalLogDensity(x[t], prior.mean, innovation.squareRoot())
            let gain = prior.variance / innovation
            filtered.append((prior.mean + gain * (x[t] - prior.mean), (1 - gain) * prior.variance))
        }
        var smoothed = filtered
        for t in stride(from: x.count - 2, through: 0, by: -1) {
            let gain = filtered[t].variance * a / predicted[t + 1].variance
            smoothed[t] = (filtered[t].mean + gain * (smoothed[t + 1].mean - predicted[t + 1].mean),
                           filtered[t].variance + gain * gain * (smoothed[t + 1].variance - predicted[t + 1].variance))
        }
        return (logLikelihood, smoothed)
    }
}

import Foundation
import Distributions
import Inference
import PPL
import TensorCore
import XCTest

/// Probabilistic PCA (Tipping & Bishop 1999), where everything is closed form: the maximum
/// likelihood, and the exact posterior z | x ~ N(M^-1 W (x - mu), sigma^2 M^-1) with
/// M = W W^T + sigma^2 I (W stored as latent x data).
final class PPCATests: XCTestCase {
    let latentSize = 2, dataSize = 5, count = 1000

    let ppca = Model("ppca") { (x: Tensor, n: Int) in
        let weights = param("weights", initializer: { Tensor.randomNormal([2, 5], using: &$0) * 0.1 })
        let mean = param("mean", Tensor.zeros([5]))
        let noise = param("noise", Tensor(1), constraint: .positive)
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(0, 1).expanded(to: [2]).independent(1)
            observe("x", x) ~ Normal(matmul(z, weights) + mean, noise).independent(1)
        }
    }

    func data() -> Tensor {
        var generator = RandomGenerator(seed: 5)
        let trueWeights = Tensor([[2, 0.5, -1, 0, 1], [0, 1.5, 1, -2, 0.5]])
        let z = Tensor.randomNormal([count, latentSize], using: &generator)
        return matmul(z, trueWeights) + Tensor([1, -1, 0.5, 0, 2]) + 0.5 * Tensor.randomNormal([count, dataSize], using: &generator)
    }

    func testLinearEncoderReachesTheClosedFormSolutionAndPosterior() throws {
        let x = data()
        let vi = Amortized(ppca, options: CompilerOptions(hiddenSizes: []))
        XCTAssertEqual(try vi.compile(example: x.slice(axis: 0, 0..<100), datasetSize: count)["z"]?.estimator, .analyticKL)
        var options = TrainingOptions(epochs: 300, batchSize: 100, optimizer: .adam(learningRate: 0.02))
        options.schedule = .cosine(steps: 3000, minimum: 0.05)
        _ = try vi.fit(x, options: options)

        let rows = (0..<count).map { n in (0..<dataSize).map { Double(x.scalars[n * dataSize + $0]) } }
        let best = Linear.maximumLogLikelihood(rows, latentSize: latentSize)
        let w = vi.parameters["weights"]!.scalars.map(Double.init)
        let mu = vi.parameters["mean"]!.scalars.map(Double.init)
        let sigma2 = pow(Double(vi.parameters["noise"]!.scalar), 2)
        var covariance = Linear.identity(dataSize).map { $0.map { $0 * sigma2 } }
        for i in 0..<dataSize { for j in 0..<dataSize { for k in 0..<latentSize { covariance[i][j] += w[k * dataSize + i] * w[k * dataSize + j] } } }
        let learned = Linear.gaussianLogLikelihood(rows, mean: mu, covariance: covariance)
        XCTAssertEqual(learned, best, accuracy: 0.005 * Swift.abs(best), "within 0.5% of the maximum likelihood")

        // The exact posterior against the encoder's q, per point.
        var m = Linear.identity(latentSize).map { $0.map { $0 * sigma2 } }
        for a in 0..<latentSize { for b in 0..<latentSize { for i in 0..<dataSize { m[a][b] += w[a * dataSize + i] * w[b * dataSize + i] } } }
        let mInverse = Linear.inverse(m)
        let posteriorCovariance = mInverse.map { $0.map { $0 * sigma2 } }
        let q = try XCTUnwrap(try vi.posterior(x)["z"] as? Independent<Normal>)
        let loc = q.base.loc.scalars.map(Double.init), scale = q.base.scale.scalars.map(Double.init)
        var totalKL = 0.0
        for n in 0..<count {
            let centered = (0..<dataSize).map { rows[n][$0] - mu[$0] }
            let projected = (0..<latentSize).map { a in (0..<dataSize).map { w[a * dataSize + $0] * centered[$0] }.reduce(0, +) }
            let posteriorMean = (0..<latentSize).map { a in (0..<latentSize).map { mInverse[a][$0] * projected[$0] }.reduce(0, +) }
            let qMean = (0..<latentSize).map { loc[n * latentSize + $0] }
            let qVariance = (0..<latentSize).map { pow(scale[n * latentSize + $0], 2) }
            totalKL += Linear.klDiagonalToFull(qMean, qVariance, posteriorMean, posteriorCovariance)
        }
        XCTAssertLessThan(totalKL / Double(count), 0.01, "mean KL(q || exact posterior) in nats")
    }
}

/// Small dense linear algebra in Double for the closed forms above.
enum Linear {
    static func identity(_ n: Int) -> [[Double]] { (0..<n).map { i in (0..<n).map { $0 == i ? 1 : 0 } } }

    /// Lower Cholesky factor of a symmetric positive-definite matrix.
    static func cholesky(_ a: [[Double]]) -> [[Double]] {
        let n = a.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                let sum = (0..<j).map { l[i][$0] * l[j][$0] }.reduce(0, +)
                l[i][j] = i == j ? (a[i][i] - sum).squareRoot() : (a[i][j] - sum) / l[j][j]
            }
        }
        return l
    }

    static func inverse(_ a: [[Double]]) -> [[Double]] {
        let n = a.count
        var m = a, inv = identity(n)
        for c in 0..<n {
            let pivot = (c..<n).max { Swift.abs(m[$0][c]) < Swift.abs(m[$1][c]) }!
            m.swapAt(c, pivot)
            inv.swapAt(c, pivot)
            let d = m[c][c]
            for j in 0..<n { m[c][j] /= d; inv[c][j] /= d }
            for r in 0..<n where r != c {
                let f = m[r][c]
                for j in 0..<n { m[r][j] -= f * m[c][j]; inv[r][j] -= f * inv[c][j] }
            }
        }
        return inv
    }

    static func logDeterminant(_ a: [[Double]]) -> Double { 2 * cholesky(a).enumerated().map { Foundation.log($0.element[$0.offset]) }.reduce(0, +) }

    /// `sum_n log N(x_n; mean, covariance)`.
    static func gaussianLogLikelihood(_ rows: [[Double]], mean: [Double], covariance: [[Double]]) -> Double {
        let d = mean.count
        let precision = inverse(covariance)
        let constant = -0.5 * (Double(d) * Foundation.log(2 * Double.pi) + logDeterminant(covariance))
        return rows.map { row in
            let c = (0..<d).map { row[$0] - mean[$0] }
            let quadratic = (0..<d).map { i in (0..<d).map { precision[i][$0] * c[$0] }.reduce(0, +) * c[i] }.reduce(0, +)
            return constant - 0.5 * quadratic
        }.reduce(0, +)
    }

    /// Eigenvalues of a symmetric matrix by cyclic Jacobi rotations, largest first.
    static func eigenvalues(_ a: [[Double]]) -> [Double] {
        var m = a
        let n = m.count
        for _ in 0..<100 {
            for p in 0..<n {
                for q in (p + 1)..<n where Swift.abs(m[p][q]) > 1e-14 {
                    let theta = 0.5 * Foundation.atan2(2 * m[p][q], m[q][q] - m[p][p])
                    let (c, s) = (Foundation.cos(theta), Foundation.sin(theta))
                    for k in 0..<n {
                        let (mkp, mkq) = (m[k][p], m[k][q])
                        m[k][p] = c * mkp - s * mkq
                        m[k][q] = s * mkp + c * mkq
                    }
                    for k in 0..<n {
                        let (mpk, mqk) = (m[p][k], m[q][k])
                        m[p][k] = c * mpk - s * mqk
                        m[q][k] = s * mpk + c * mqk
                    }
                }
            }
        }
        return (0..<n).map { m[$0][$0] }.sorted(by: >)
    }

    /// The PPCA maximum of `sum_n log p(x_n)` (Tipping & Bishop 1999, eq. 7 with their ML
    /// solution): `-N/2 (d log 2 pi + sum_{i<=q} log l_i + (d - q) log s2 + d)`, where `l_i` are
    /// the sample covariance's eigenvalues and `s2` the mean of the discarded ones.
    static func maximumLogLikelihood(_ rows: [[Double]], latentSize q: Int) -> Double {
        let n = Double(rows.count), d = rows[0].count
        let mean = (0..<d).map { j in rows.map { $0[j] }.reduce(0, +) / n }
        var s = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        for row in rows { for i in 0..<d { for j in 0..<d { s[i][j] += (row[i] - mean[i]) * (row[j] - mean[j]) / n } } }
        let l = eigenvalues(s)
        let s2 = l[q...].reduce(0, +) / Double(d - q)
        return -n / 2 * (Double(d) * Foundation.log(2 * Double.pi) + l[..<q].map { Foundation.log($0) }.reduce(0, +) + Double(d - q) * Foundation.log(s2) + Double(d))
    }

    /// `KL(N(m1, diag(v1)) || N(m2, S2))`.
    static func klDiagonalToFull(_ m1: [Double], _ v1: [Double], _ m2: [Double], _ s2: [[Double]]) -> Double {
        let k = m1.count
        let precision = inverse(s2)
        let trace = (0..<k).map { precision[$0][$0] * v1[$0] }.reduce(0, +)
        let d = (0..<k).map { m2[$0] - m1[$0] }
        let quadratic = (0..<k).map { i in (0..<k).map { precision[i][$0] * d[$0] }.reduce(0, +) * d[i] }.reduce(0, +)
        return 0.5 * (trace + quadratic - Double(k) + logDeterminant(s2) - v1.map { Foundation.log($0) }.reduce(0, +))
    }
}

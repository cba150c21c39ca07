import Foundation
import Latent
import XCTest

// The zoo: small models written as a user would, trained only through `Amortized(model).fit`,
// each held against an exact answer. The helpers here state the three checks every zoo model
// makes and the tolerance of each.

/// The exact posterior moments of one site, element by element (rows first for a local site).
struct ExactMoments {
    let mean: [Double]
    let sd: [Double]
}

/// Full-batch training that settles: Adam with a cosine decay to 2% of the rate, `particles`
/// draws per step (SVI noise then shrinks with the rate, so the final parameters sit near the
/// optimum rather than wandering around it).
@discardableResult
func trainToConvergence<I: RowData>(_ vi: Amortized<I>, _ data: I, steps: Int, learningRate: Float = 0.05, particles: Int = 8, batchSize: Int? = nil, seed: UInt64 = 0) throws -> [EpochReport] {
    let rows = data.rowCount
    let batch = batchSize ?? rows
    let batches = (rows + batch - 1) / batch
    var options = TrainingOptions(epochs: (steps + batches - 1) / batches, batchSize: batch, optimizer: .adam(learningRate: learningRate))
    options.schedule = .cosine(steps: steps, minimum: 0.02)
    options.particles = particles
    options.seed = seed
    return try vi.fit(data, options: options)
}

/// The mean and standard error of the ELBO of `data` over `repeats` independent estimates of
/// `particles` particles each.
func estimateELBO<I: RowData>(_ vi: Amortized<I>, _ data: I, particles: Int = 200, repeats: Int = 10) throws -> (mean: Double, standardError: Double) {
    let values = try (0..<repeats).map { Double(try vi.elbo(data, particles: particles, seed: UInt64($0))) }
    return meanAndStandardError(values)
}

func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(values.count - 1, 1))
    return (mean, (variance / Double(values.count)).squareRoot())
}

/// Check 1: the ELBO is a lower bound of the exact `log p(x)` (within 4 standard errors and
/// float32 rounding), and training made it tight to within `gap` nats.
func assertELBOIsATightBound<I: RowData>(_ vi: Amortized<I>, _ data: I, logLikelihood exact: Double, gap: Double, file: StaticString = #filePath, line: UInt = #line) throws {
    let elbo = try estimateELBO(vi, data)
    let rounding = 1e-5 * abs(exact) + 1e-4
    XCTAssertLessThanOrEqual(elbo.mean, exact + 4 * elbo.standardError + rounding, "ELBO \(elbo.mean) ± \(elbo.standardError) above log p(x) = \(exact)", file: file, line: line)
    XCTAssertGreaterThan(elbo.mean, exact - gap, "ELBO \(elbo.mean) more than \(gap) below log p(x) = \(exact)", file: file, line: line)
}

/// Check 2: importance sampling with the trained guide estimates `log p(x)` within 4 standard
/// errors of 8 independent `samples`-draw estimates, plus 1e-3 for float32 rounding and the
/// estimator's small downward bias (`-Var(w) / 2k`, far below the error for a trained guide).
func assertImportanceSamplingMatches(_ estimate: (UInt64) throws -> Double, logLikelihood exact: Double, file: StaticString = #filePath, line: UInt = #line) throws {
    let estimates = try (0..<8).map { try estimate(UInt64($0)) }
    let (mean, error) = meanAndStandardError(estimates)
    XCTAssertEqual(mean, exact, accuracy: 4 * error + 1e-3 + 1e-5 * abs(exact), "importance-sampled log p(x) \(mean) ± \(error)", file: file, line: line)
}

/// Check 3: the guide's posterior moments at `site` match the exact ones: each mean within
/// `meanTolerance` exact standard deviations, each standard deviation within `sdTolerance` of
/// itself (a mean off by 0.1 sd costs only 0.005 nats of ELBO, so SVI cannot be asked for
/// more), plus 4 Monte Carlo standard errors of the `draws` the summary averages.
func assertMoments<I: RowData>(_ vi: Amortized<I>, _ data: I, site: String, exact: ExactMoments, meanTolerance: Double = 0.1, sdTolerance: Double = 0.1, draws: Int = 4000, file: StaticString = #filePath, line: UInt = #line) throws {
    guard let summary = try vi.posteriorSummary(data, draws: draws)[site] else {
        XCTFail("no posterior summary of site \(site)", file: file, line: line)
        return
    }
    let mean = summary.mean.scalars.map(Double.init), sd = summary.standardDeviation.scalars.map(Double.init)
    XCTAssertEqual(mean.count, exact.mean.count, "site \(site): element count", file: file, line: line)
    let monteCarlo = summary.isExact ? 0 : 4 / Double(draws).squareRoot()
    for i in 0..<min(mean.count, exact.mean.count) {
        XCTAssertEqual(mean[i], exact.mean[i], accuracy: (meanTolerance + monteCarlo) * exact.sd[i], "site \(site) element \(i): mean", file: file, line: line)
        XCTAssertEqual(sd[i], exact.sd[i], accuracy: (sdTolerance + monteCarlo) * exact.sd[i], "site \(site) element \(i): standard deviation", file: file, line: line)
    }
}

/// A small dense matrix in Double, for the zoo's exact answers.
struct Matrix {
    var rows: Int
    var columns: Int
    var values: [Double]

    init(_ rows: Int, _ columns: Int, _ values: [Double]? = nil) {
        self.rows = rows
        self.columns = columns
        self.values = values ?? [Double](repeating: 0, count: rows * columns)
    }

    static func identity(_ n: Int) -> Matrix {
        var m = Matrix(n, n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    subscript(i: Int, j: Int) -> Double {
        get { values[i * columns + j] }
        set { values[i * columns + j] = newValue }
    }

    var transposed: Matrix {
        var t = Matrix(columns, rows)
        for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
        return t
    }

    static func * (a: Matrix, b: Matrix) -> Matrix {
        var c = Matrix(a.rows, b.columns)
        for i in 0..<a.rows { for k in 0..<a.columns { for j in 0..<b.columns { c[i, j] += a[i, k] * b[k, j] } } }
        return c
    }

    static func + (a: Matrix, b: Matrix) -> Matrix { Matrix(a.rows, a.columns, zip(a.values, b.values).map(+)) }
    static func * (s: Double, a: Matrix) -> Matrix { Matrix(a.rows, a.columns, a.values.map { s * $0 }) }

    /// The lower Cholesky factor of a symmetric positive definite matrix.
    var cholesky: Matrix {
        var l = Matrix(rows, rows)
        for i in 0..<rows {
            for j in 0...i {
                var sum = self[i, j]
                for k in 0..<j { sum -= l[i, k] * l[j, k] }
                l[i, j] = i == j ? sum.squareRoot() : sum / l[j, j]
            }
        }
        return l
    }

    var inverse: Matrix {
        let l = cholesky
        var result = Matrix(rows, rows)
        for column in 0..<rows {
            var e = [Double](repeating: 0, count: rows)
            e[column] = 1
            let x = l.solveUpperTransposed(l.solveLower(e))
            for i in 0..<rows { result[i, column] = x[i] }
        }
        return result
    }

    var logDeterminant: Double { let l = cholesky; return 2 * (0..<rows).map { Foundation.log(l[$0, $0]) }.reduce(0, +) }

    func solveLower(_ b: [Double]) -> [Double] {
        var x = b
        for i in 0..<rows {
            for k in 0..<i { x[i] -= self[i, k] * x[k] }
            x[i] /= self[i, i]
        }
        return x
    }

    func solveUpperTransposed(_ b: [Double]) -> [Double] {
        var x = b
        for i in stride(from: rows - 1, through: 0, by: -1) {
            for k in (i + 1)..<rows { x[i] -= self[k, i] * x[k] }
            x[i] /= self[i, i]
        }
        return x
    }

    func times(_ v: [Double]) -> [Double] { (0..<rows).map { i in (0..<columns).map { self[i, $0] * v[$0] }.reduce(0, +) } }
}

/// `log N(x; mean, covariance)` in Double.
func gaussianLogDensity(_ x: [Double], mean: [Double], covariance: Matrix) -> Double {
    let difference = zip(x, mean).map(-)
    let solved = covariance.cholesky.solveLower(difference)
    return -0.5 * solved.map { $0 * $0 }.reduce(0, +) - 0.5 * covariance.logDeterminant - 0.5 * Double(x.count) * Foundation.log(2 * Double.pi)
}

/// `log sum exp` of `values`, in Double.
func logSumExp(_ values: [Double]) -> Double {
    let largest = values.max() ?? -.infinity
    return largest + Foundation.log(values.map { Foundation.exp($0 - largest) }.reduce(0, +))
}

/// `log N(x; mean, sd^2)` in Double.
func normalLogDensity(_ x: Double, _ mean: Double, _ sd: Double) -> Double {
    -0.5 * ((x - mean) / sd) * ((x - mean) / sd) - Foundation.log(sd) - 0.5 * Foundation.log(2 * Double.pi)
}

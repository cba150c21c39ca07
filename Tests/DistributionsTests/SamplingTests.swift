import Foundation
import Distributions
import TensorCore
import XCTest

/// Samplers against the distributions' own moments (themselves checked against scipy in
/// ReferenceValueTests) within 4 standard errors, and continuous samplers against their CDF by
/// a Kolmogorov-Smirnov statistic below the 0.1% critical value 1.95 / sqrt(n).
final class SamplingTests: XCTestCase {
    let n = 100_000

    func draws(_ distribution: some Distribution, seed: UInt64) -> [Double] {
        var generator = RandomGenerator(seed: seed)
        return distribution.sample([n], using: &generator).scalars.map(Double.init)
    }

    func assertMoments(_ distribution: some Distribution, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let values = draws(distribution, seed: seed)
        let mean = Double(distribution.mean.scalar), variance = Double(distribution.variance.scalar)
        let count = Double(values.count)
        let sampleMean = values.reduce(0, +) / count
        let centered = values.map { $0 - sampleMean }
        let sampleVariance = centered.reduce(0) { $0 + $1 * $1 } / (count - 1)
        let fourth = centered.reduce(0) { $0 + $1 * $1 * $1 * $1 } / count
        XCTAssertEqual(sampleMean, mean, accuracy: 4 * (variance / count).squareRoot() + 1e-6 * Swift.abs(mean), "mean of \(distribution)", file: file, line: line)
        XCTAssertEqual(sampleVariance, variance, accuracy: 4 * ((fourth - sampleVariance * sampleVariance) / count).squareRoot() + 1e-5 * variance, "variance of \(distribution)", file: file, line: line)
    }

    func testMomentsOfEveryFamily() {
        assertMoments(Normal(0.5, 1.5), seed: 1)
        assertMoments(LogNormal(0.2, 0.5), seed: 2)
        assertMoments(HalfNormal(2), seed: 3)
        assertMoments(Bernoulli(probs: 0.3), seed: 4)
        assertMoments(Bernoulli(logits: -1.2), seed: 5)
        assertMoments(Beta(2, 3), seed: 6)
        assertMoments(Beta(0.5, 0.5), seed: 7)
        assertMoments(Gamma(concentration: 2.5, rate: 1.5), seed: 8)
        assertMoments(Gamma(concentration: 0.3, rate: 2), seed: 9)
        assertMoments(Exponential(rate: 2), seed: 10)
        assertMoments(Uniform(-1, 3), seed: 11)
        assertMoments(Laplace(1, 0.5), seed: 12)
        assertMoments(StudentT(df: 5, loc: 1, scale: 2), seed: 13)
        assertMoments(Poisson(rate: 3.5), seed: 14)
        assertMoments(Poisson(rate: 40), seed: 15)
        assertMoments(Poisson(rate: 1000), seed: 16)
    }

    func testVectorFamiliesMatchTheirMeansAndVariances() {
        var generator = RandomGenerator(seed: 17)
        let families: [any Distribution] = [
            Dirichlet(Tensor([1.5, 2, 0.7])),
            MultivariateNormal(loc: Tensor([1, -1]), scaleTril: Tensor([[1, 0], [0.5, 2]])),
            OneHotCategorical(probs: Tensor([0.2, 0.5, 0.3])),
        ]
        for distribution in families {
            let draws = distribution.sample([n], using: &generator)
            let sampleMean = draws.mean(axis: 0).scalars.map(Double.init)
            let sampleVariance = square(draws - draws.mean(axis: 0)).mean(axis: 0).scalars.map(Double.init)
            for (i, (mean, variance)) in zip(distribution.mean.scalars, distribution.variance.scalars).enumerated() {
                XCTAssertEqual(sampleMean[i], Double(mean), accuracy: 4 * (Double(variance) / Double(n)).squareRoot(), "\(distribution) mean \(i)")
                XCTAssertEqual(sampleVariance[i], Double(variance), accuracy: 0.02 * Double(variance), "\(distribution) variance \(i)")
            }
        }
    }

    func testMultivariateNormalCovariance() {
        var generator = RandomGenerator(seed: 18)
        let draws = MultivariateNormal(loc: Tensor([0, 0]), scaleTril: Tensor([[1, 0], [0.5, 2]])).sample([n], using: &generator)
        let covariance = (draws.slice(axis: 1, 0..<1) * draws.slice(axis: 1, 1..<2)).mean().scalar
        // Sigma_01 = L_00 L_10 = 0.5; the product has variance Sigma_00 Sigma_11 + Sigma_01^2 = 4.5.
        XCTAssertEqual(Double(covariance), 0.5, accuracy: 4 * (4.5 / Double(n)).squareRoot())
    }

    /// The Kolmogorov-Smirnov distance between the draws and `cdf`.
    func ksDistance(_ values: [Double], _ cdf: (Double) -> Double) -> Double {
        let sorted = values.sorted()
        let count = Double(sorted.count)
        var worst = 0.0
        for (i, x) in sorted.enumerated() {
            let f = cdf(x)
            worst = Swift.max(worst, Swift.abs(f - Double(i) / count), Swift.abs(f - Double(i + 1) / count))
        }
        return worst
    }

    /// The CDF by trapezoid integration of `exp(logProb)` from `lower` on a fine grid.
    func numericalCDF(_ distribution: some Distribution, from lower: Double, to upper: Double) -> (Double) -> Double {
        let steps = 400_000
        let grid = (0...steps).map { lower + (upper - lower) * Double($0) / Double(steps) }
        let density = distribution.logProb(Tensor(grid.map(Float.init))).scalars.map { Foundation.exp(Double($0)) }
        var cumulative = [0.0]
        for i in 1...steps { cumulative.append(cumulative[i - 1] + 0.5 * (density[i] + density[i - 1]) * (grid[i] - grid[i - 1])) }
        return { x in
            let position = (x - lower) / (upper - lower) * Double(steps)
            let i = Swift.min(Swift.max(Int(position), 0), steps - 1)
            return cumulative[i] + (cumulative[i + 1] - cumulative[i]) * (position - Double(i))
        }
    }

    func testContinuousSamplersPassKolmogorovSmirnov() {
        let critical = 1.95 / Double(n).squareRoot()
        func normalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }
        let cases: [(String, [Double], (Double) -> Double)] = [
            ("Normal", draws(Normal(0.5, 1.5), seed: 21), { normalCDF(($0 - 0.5) / 1.5) }),
            ("LogNormal", draws(LogNormal(0.2, 0.5), seed: 22), { normalCDF((Foundation.log($0) - 0.2) / 0.5) }),
            ("HalfNormal", draws(HalfNormal(2), seed: 23), { 2 * normalCDF($0 / 2) - 1 }),
            ("Exponential", draws(Exponential(rate: 2), seed: 24), { 1 - Foundation.exp(-2 * $0) }),
            ("Uniform", draws(Uniform(-1, 3), seed: 25), { ($0 + 1) / 4 }),
            ("Laplace", draws(Laplace(1, 0.5), seed: 26), { $0 < 1 ? 0.5 * Foundation.exp(($0 - 1) / 0.5) : 1 - 0.5 * Foundation.exp(-($0 - 1) / 0.5) }),
            ("Gamma", draws(Gamma(concentration: 2.5, rate: 1.5), seed: 27), numericalCDF(Gamma(concentration: 2.5, rate: 1.5), from: 0, to: 40)),
            ("Beta", draws(Beta(2, 3), seed: 28), numericalCDF(Beta(2, 3), from: 0, to: 1)),
            ("StudentT", draws(StudentT(df: 4, loc: 1, scale: 2), seed: 29), numericalCDF(StudentT(df: 4, loc: 1, scale: 2), from: -3000, to: 3000)),
        ]
        for (name, values, cdf) in cases {
            XCTAssertLessThan(ksDistance(values, cdf), critical, name)
        }
    }

    func testSamplesHaveSampleBatchAndEventShape() {
        var generator = RandomGenerator(seed: 30)
        XCTAssertEqual(Normal(Tensor.zeros([3]), 1).sample([4, 2], using: &generator).shape, [4, 2, 3])
        XCTAssertEqual(Dirichlet(Tensor.ones([2, 5])).sample([7], using: &generator).shape, [7, 2, 5])
        XCTAssertEqual(Categorical(logits: Tensor.zeros([2, 5])).sample([7], using: &generator).shape, [7, 2])
        XCTAssertEqual(Normal(0, 1).expanded(to: [20]).independent(1).sample([3], using: &generator).shape, [3, 20])
    }

    /// Small concentrations, where Gamma draws underflow a float (a third of them at 0.01):
    /// Beta and Dirichlet draws were 0 / 0 = NaN when both underflowed (37 in 1e6 at Beta(0.05,
    /// 0.05), 4.5% of Dirichlet(0.01, 0.01, 0.01) rows), Gamma's were 0, outside its support,
    /// and Student's t's infinite at df 0.2 (126 in 1e6, where 0.015 are expected). Each now
    /// stays in its support, with a finite mean and gradient.
    func testSmallConcentrationsGiveDrawsInsideTheSupport() throws {
        var generator = RandomGenerator(seed: 11)
        let beta = try valueWithGradient(at: [Tensor(0.05), Tensor(0.05)]) { p in Beta(p[0], p[1]).rsample([200_000], using: &generator) }
        let draws = beta.value.scalars
        XCTAssertTrue(draws.allSatisfy { $0 > 0 && $0 < 1 }, "Beta(0.05, 0.05) draws in (0, 1)")
        // The mean 1/2 within 4 standard errors (variance ab / ((a + b)^2 (a + b + 1)) = 0.227).
        XCTAssertEqual(Double(draws.reduce(0, +)) / 200_000, 0.5, accuracy: 4 * (0.2273 / 200_000).squareRoot())
        XCTAssertTrue(beta.gradients.allSatisfy(\.isFinite))
        let rows = Dirichlet(Tensor([0.01, 0.01, 0.01])).sample([100_000], using: &generator).scalars
        for row in stride(from: 0, to: rows.count, by: 3) {
            let total = rows[row] + rows[row + 1] + rows[row + 2]
            guard total.isFinite, Swift.abs(total - 1) < 1e-6, rows[row..<(row + 3)].allSatisfy({ $0 >= 0 }) else {
                return XCTFail("Dirichlet row \(row / 3): \(Array(rows[row..<(row + 3)]))")
            }
        }
        let gamma = Gamma(concentration: 0.01, rate: 1)
        let gammaDraws = gamma.rsample([100_000], using: &generator)
        XCTAssertTrue(gammaDraws.scalars.allSatisfy { $0 > 0 }, "Gamma(0.01) draws are positive")
        XCTAssertNoThrow(try checkingTensorErrors { _ = gamma.logProb(gammaDraws) })
        let student = StudentT(df: 0.2, loc: 0, scale: 1).rsample([100_000], using: &generator).scalars
        XCTAssertTrue(student.allSatisfy(\.isFinite), "\(student.filter { !$0.isFinite }.count) infinite t draws at df 0.2")
    }

    /// d/da E[log z] for Beta(a, b) is psi'(a) - psi'(a + b) (Beta(2, 3): 0.42361); the draws
    /// through the logarithms of the Gamma draws keep it, within 4 standard errors of the mean
    /// of 40 estimates.
    func testTheBetaGradientThroughLogarithmsIsUnbiased() throws {
        var generator = RandomGenerator(seed: 5)
        let estimates = try (0..<40).map { _ in
            Double(try valueWithGradient(at: [Tensor(2)]) { p in log(Beta(p[0], Tensor(3)).rsample([20_000], using: &generator)).mean() }.gradients[0].scalar)
        }
        let mean = estimates.reduce(0, +) / 40
        let error = (estimates.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 39 / 40).squareRoot()
        XCTAssertEqual(mean, 0.42361, accuracy: 4 * error + 1e-4)
    }
}

import Distributions
import TensorCore
import XCTest

/// `rsample` gradients: the pathwise estimate of d/dtheta E[f(x)] against its closed form.
/// Twenty batches of 20,000 draws give a mean and a standard error; the estimate must lie
/// within 4 standard errors (plus 1e-4 relative for Float32 rounding).
/// Draws per batch.
private let draws = [20_000]

final class ReparameterizationTests: XCTestCase {
    func assertGradient(
        _ parameters: [Tensor], _ expected: [[Float]], seed: UInt64,
        _ expectation: @escaping ([Tensor], inout RandomGenerator) -> Tensor,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        var generator = RandomGenerator(seed: seed)
        var batches: [[Float]] = []
        for _ in 0..<20 {
            let (_, gradients) = try valueWithGradient(at: parameters) { expectation($0, &generator) }
            batches.append(gradients.flatMap(\.scalars))
        }
        let flatExpected = expected.flatMap { $0 }
        for (i, target) in flatExpected.enumerated() {
            let values = batches.map { Double($0[i]) }
            let mean = values.reduce(0, +) / 20
            let standardError = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 19 / 20).squareRoot()
            XCTAssertEqual(mean, Double(target), accuracy: 4 * standardError + 1e-4 * Swift.abs(Double(target)), "gradient \(i)", file: file, line: line)
        }
    }


    func testNormalLogNormalHalfNormal() throws {
        try assertGradient([0.5, 1.5], [[1], [3]], seed: 1) { p, g in square(Normal(p[0], p[1]).rsample(draws, using: &g)).mean() }
        let e = Float(exp(0.2 + 0.125))
        try assertGradient([0.2, 0.5], [[e], [0.5 * e]], seed: 2) { p, g in LogNormal(p[0], p[1]).rsample(draws, using: &g).mean() }
        try assertGradient([2], [[4]], seed: 3) { p, g in square(HalfNormal(p[0]).rsample(draws, using: &g)).mean() }
    }

    func testGammaImplicitGradients() throws {
        try assertGradient([2.5, 1.5], [[1 / 1.5], [-2.5 / 2.25]], seed: 4) { p, g in Gamma(concentration: p[0], rate: p[1]).rsample(draws, using: &g).mean() }
        // E[x^2] = a (a + 1) for rate 1: d/da = 2a + 1, through the a < 1 boost.
        try assertGradient([0.4], [[1.8]], seed: 5) { p, g in square(Gamma(concentration: p[0], rate: 1).rsample(draws, using: &g)).mean() }
    }

    func testBetaAndDirichletThroughGammas() throws {
        try assertGradient([2, 3], [[3 / 25], [-2 / 25]], seed: 6) { p, g in Beta(p[0], p[1]).rsample(draws, using: &g).mean() }
        let total: Float = 4.2
        try assertGradient([Tensor([1.5, 2, 0.7])], [[(total - 1.5) / (total * total), -1.5 / (total * total), -1.5 / (total * total)]], seed: 7) { p, g in
            Dirichlet(p[0]).rsample(draws, using: &g).slice(axis: -1, 0..<1).mean()
        }
    }

    func testExponentialUniformLaplaceStudentT() throws {
        try assertGradient([2], [[-0.25]], seed: 8) { p, g in Exponential(rate: p[0]).rsample(draws, using: &g).mean() }
        try assertGradient([1, 3], [[5.0 / 3], [7.0 / 3]], seed: 9) { p, g in square(Uniform(p[0], p[1]).rsample(draws, using: &g)).mean() }
        try assertGradient([1, 0.5], [[2], [2]], seed: 10) { p, g in square(Laplace(p[0], p[1]).rsample(draws, using: &g)).mean() }
        try assertGradient([5, 1, 2], [[-8.0 / 9], [2], [20.0 / 3]], seed: 11) { p, g in
            square(StudentT(df: p[0], loc: p[1], scale: p[2]).rsample(draws, using: &g)).mean()
        }
    }

    func testMultivariateNormal() throws {
        try assertGradient([Tensor([1, -1]), Tensor([[1, 0], [0.5, 2]])], [[2, -2], [2, 0, 1, 4]], seed: 12) { p, g in
            square(MultivariateNormal(loc: p[0], scaleTril: p[1]).rsample(draws, using: &g)).sum(axis: -1).mean()
        }
    }
}

import Distributions
import TensorCore
import XCTest

/// Every closed-form KL divergence against the Monte Carlo estimate E_p[log p(x) - log q(x)]
/// from 200,000 draws, within 4 standard errors.
final class KLDivergenceTests: XCTestCase {
    func assertMatchesMonteCarlo(_ p: some Distribution, _ q: some Distribution, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        var generator = RandomGenerator(seed: seed)
        let x = p.sample([200_000], using: &generator)
        let ratios = (p.logProb(x) - q.logProb(x)).reshaped(to: [200_000, -1])
        let closed = try klDivergence(p, q).reshaped(to: [-1]).scalars
        for (i, kl) in closed.enumerated() {
            let column = ratios.slice(axis: 1, i..<(i + 1)).scalars.map(Double.init)
            let mean = column.reduce(0, +) / Double(column.count)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count - 1)
            XCTAssertEqual(Double(kl), mean, accuracy: 4 * (variance / Double(column.count)).squareRoot() + 1e-5, "\(p) || \(q), batch element \(i)", file: file, line: line)
        }
    }

    func testEveryClosedForm() throws {
        try assertMatchesMonteCarlo(Normal(Tensor([0, 1]), Tensor([1, 0.5])), Normal(Tensor([0.5, -1]), Tensor([2, 1])), seed: 1)
        try assertMatchesMonteCarlo(Normal(Tensor([0, 1, 2]), 1).independent(1), Normal(Tensor([0.5, 0, 2]), 1.5).independent(1), seed: 2)
        try assertMatchesMonteCarlo(
            MultivariateNormal(loc: Tensor([1, -1]), scaleTril: Tensor([[1, 0], [0.5, 2]])),
            MultivariateNormal(loc: Tensor([0, 0]), scaleTril: Tensor([[2, 0], [-0.3, 1]])), seed: 3)
        try assertMatchesMonteCarlo(
            MultivariateNormal(loc: Tensor([[1, -1, 0], [0, 2, 1]]), scaleTril: Tensor([[1, 0, 0], [0.5, 2, 0], [-0.4, 0.3, 0.6]])),
            Normal(Tensor([0, 0.5, -1]), Tensor([2, 1, 0.7])).independent(1), seed: 13)
        try assertMatchesMonteCarlo(Categorical(probs: Tensor([0.2, 0.5, 0.3])), Categorical(logits: Tensor([1, -1, 0.5])), seed: 4)
        try assertMatchesMonteCarlo(OneHotCategorical(probs: Tensor([0.2, 0.5, 0.3])), OneHotCategorical(probs: Tensor([0.4, 0.4, 0.2])), seed: 5)
        try assertMatchesMonteCarlo(Bernoulli(probs: Tensor([0.3, 0.9])), Bernoulli(logits: Tensor([1, -2])), seed: 6)
        try assertMatchesMonteCarlo(Beta(2, 3), Beta(0.7, 1.5), seed: 7)
        try assertMatchesMonteCarlo(Gamma(concentration: 2.5, rate: 1.5), Gamma(concentration: 1, rate: 0.5), seed: 8)
        try assertMatchesMonteCarlo(Dirichlet(Tensor([1.5, 2, 0.7])), Dirichlet(Tensor([1, 1, 1])), seed: 9)
        try assertMatchesMonteCarlo(Exponential(rate: 2), Exponential(rate: 0.5), seed: 10)
        try assertMatchesMonteCarlo(Laplace(1, 0.5), Laplace(0, 2), seed: 11)
    }

    func testKLOfADistributionWithItselfIsZero() throws {
        XCTAssertEqual(try klDivergence(Normal(1, 2), Normal(1, 2)).scalar, 0, accuracy: 1e-6)
        XCTAssertEqual(try klDivergence(Dirichlet(Tensor([0.5, 3])), Dirichlet(Tensor([0.5, 3]))).scalar, 0, accuracy: 1e-5)
    }

    func testUserRegisteredFormulaIsFound() throws {
        registerKL(Laplace.self, Normal.self) { p, q in
            // Closed form of KL(Laplace || Normal): E_p[log p] = -1 - log(2b); E_p[(x - m)^2] = 2b^2 + (mu - m)^2.
            let crossEntropy = 0.5 * (2 * p.scale * p.scale + square(p.loc - q.loc)) / (q.scale * q.scale) + log(q.scale) + 0.5 * Float(log(2 * Double.pi))
            return crossEntropy - 1 - log(2 * p.scale)
        }
        try assertMatchesMonteCarlo(Laplace(1, 0.5), Normal(0, 2), seed: 12)
    }
}

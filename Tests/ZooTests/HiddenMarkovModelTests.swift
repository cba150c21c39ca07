import Foundation
import Latent
import XCTest

/// A hidden Markov model over rows that are sequences of T = 60 observations: three hidden
/// levels with a learned transition matrix and learned level locations. The states form a
/// `markov` chain, so the compiler sums them out of the model (no guide) in linear time; the
/// ELBO is then the exact log-likelihood, checked against the forward algorithm in Double and
/// the posterior of each state against forward-backward.
final class HiddenMarkovModelTests: XCTestCase {
    static let steps = 60

    let model = Model("hmm") { (x: Tensor, n: Int) in
        let transition = param("transition", Tensor([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]]), constraint: .simplex)
        let levels = param("levels", Tensor([-0.5, 0, 0.5]))
        plate("data", size: n, subsample: x) {
            var state = Tensor(0)
            markov("time", steps: HiddenMarkovModelTests.steps) { t in
                state = latent("state \(t)") ~ Categorical(probs: t == 0 ? Tensor.ones([3]) / 3 : transition[state])
                observe("x \(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(levels[state], 0.5)
            }
        }
    }

    /// 30 sequences from transition rows (0.9, 0.05, 0.05) cycled and levels (-2, 0, 2).
    func sequences() -> Tensor {
        var generator = RandomGenerator(seed: 81)
        let transition = [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]
        var values: [Float] = []
        for _ in 0..<30 {
            var state = Int(generator.next() % 3)
            for _ in 0..<Self.steps {
                let u = Double(generator.next() >> 11) / Double(1 << 53)
                state = u < transition[state][0] ? 0 : u < transition[state][0] + transition[state][1] ? 1 : 2
                let noise = Tensor.randomNormal([1], using: &generator).scalar
                values.append(Float(2 * (state - 1)) + 0.5 * noise)
            }
        }
        return Tensor(shape: [30, Self.steps], scalars: values)
    }

    /// Forward and backward messages in Double: log p(x) per row and p(state_t | x) per row.
    func forwardBackward(_ x: Tensor, transition: [[Double]], levels: [Double], at t: Int) -> (logLikelihood: [Double], marginal: [[Double]]) {
        let values = x.scalars.map(Double.init)
        var logLikelihoods: [Double] = [], marginals: [[Double]] = []
        for row in 0..<x.shape[0] {
            let emission = (0..<Self.steps).map { s in levels.map { normalLogDensity(values[row * Self.steps + s], $0, 0.5) } }
            var alpha = [[Double]](repeating: [0, 0, 0], count: Self.steps)
            alpha[0] = (0..<3).map { Foundation.log(1.0 / 3) + emission[0][$0] }
            for s in 1..<Self.steps {
                alpha[s] = (0..<3).map { k in logSumExp((0..<3).map { alpha[s - 1][$0] + Foundation.log(transition[$0][k]) }) + emission[s][k] }
            }
            var beta = [[Double]](repeating: [0, 0, 0], count: Self.steps)
            for s in stride(from: Self.steps - 2, through: 0, by: -1) {
                beta[s] = (0..<3).map { j in logSumExp((0..<3).map { Foundation.log(transition[j][$0]) + emission[s + 1][$0] + beta[s + 1][$0] }) }
            }
            let total = logSumExp(alpha[Self.steps - 1])
            logLikelihoods.append(total)
            marginals.append((0..<3).map { Foundation.exp(alpha[t][$0] + beta[t][$0] - total) })
        }
        return (logLikelihoods, marginals)
    }

    func testHiddenMarkovModelAgainstTheForwardAlgorithm() throws {
        let x = sequences()
        let vi = Amortized(model)
        let plan = try vi.compile(example: x, datasetSize: 30)
        XCTAssertEqual(plan.sites.count, Self.steps)
        XCTAssertTrue(plan.sites.allSatisfy { $0.estimator == .marginalized && $0.parameterCount == 0 })
        let initial = forwardBackward(x, transition: [[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]], levels: [-0.5, 0, 0.5], at: 0).logLikelihood.reduce(0, +)
        XCTAssertEqual(Double(try vi.elbo(x)), initial, accuracy: 1e-5 * abs(initial), "with every state summed out the ELBO is log p(x)")

        try trainToConvergence(vi, x, steps: 300, learningRate: 0.05, particles: 1)
        let transition = vi.parameters["transition"]!.scalars.map(Double.init)
        let rows = (0..<3).map { Array(transition[(3 * $0)..<(3 * $0 + 3)]) }
        let levels = vi.parameters["levels"]!.scalars.map(Double.init)
        let (logLikelihood, marginal) = forwardBackward(x, transition: rows, levels: levels, at: 25)
        let exact = logLikelihood.reduce(0, +)
        XCTAssertEqual(Double(try vi.elbo(x)), exact, accuracy: 1e-5 * abs(exact))
        XCTAssertEqual(Double(try model.logMarginalLikelihood(x, 30, parameters: vi.parameters).scalar), exact, accuracy: 1e-5 * abs(exact))
        XCTAssertEqual(Double(try vi.importanceSampledLogLikelihood(x, samples: 1).sum().scalar), exact, accuracy: 1e-5 * abs(exact))
        XCTAssertGreaterThan(exact / 30, initial / 30 + 10, "training raised log p(x) per sequence")
        XCTAssertEqual(levels.sorted()[0], -2, accuracy: 0.2)
        XCTAssertEqual(levels.sorted()[2], 2, accuracy: 0.2)
        let posterior = try model.exactPosterior(x, 30, site: "state 25", parameters: vi.parameters).scalars.map(Double.init)
        for row in 0..<30 {
            for k in 0..<3 {
                XCTAssertEqual(posterior[row * 3 + k], marginal[row][k], accuracy: 1e-4, "p(state 25 = \(k) | x) of row \(row)")
            }
        }
    }
}

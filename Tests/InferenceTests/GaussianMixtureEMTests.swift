import Foundation
import Inference
import TensorCore
import XCTest

/// The EM reference that `compare gmm` holds the amortized fit against.
final class GaussianMixtureEMTests: XCTestCase {
    /// 400 points: 30% around (0, 0), 70% around (6, 1), unit spread.
    func twoClusters() -> Tensor {
        var generator = RandomGenerator(seed: 12)
        let first = Tensor.randomBernoulli(probabilities: Tensor.full([400, 1], 0.3), using: &generator)
        return first * Tensor([[0, 0]]) + (1 - first) * Tensor([[6, 1]]) + Tensor.randomNormal([400, 2], using: &generator)
    }

    /// From a start with both centres in one cluster, one EM run stays in a poor optimum; the
    /// best of ten starts finds the two clusters and their weights.
    func testTheBestOfSeveralStartsFindsBothClusters() {
        let x = twoClusters()
        let poor = Tensor([[6, 1], [6.2, 1.1]])
        let single = GaussianMixtureEM.fit(x, locs: poor, iterations: 3)
        let best = GaussianMixtureEM.bestOfStarts(x, locs: poor, iterations: 200)
        XCTAssertGreaterThan(best.logLikelihood, single.logLikelihood + 0.1)
        XCTAssertEqual(best.weights.scalars.sorted()[0], 0.3, accuracy: 0.06, "within 2.6 standard errors of a proportion of 400 draws")
    }

    /// The log-likelihood returned is that of the parameters returned, also when EM runs out of
    /// iterations (it was the one before the last update: -3.6701 against -3.3465 after one).
    func testTheLogLikelihoodIsThatOfTheParametersReturned() {
        let x = twoClusters()
        for iterations in [1, 2, 5, 500] {
            let result = GaussianMixtureEM.fit(x, locs: Tensor([[1, 0], [5, 2]]), iterations: iterations)
            let (w, mu, v) = (result.weights.scalars.map(Double.init), result.locs.scalars.map(Double.init), result.variances.scalars.map(Double.init))
            var total = 0.0
            for row in 0..<400 {
                var terms: [Double] = []
                for k in 0..<2 {
                    var term = Foundation.log(w[k])
                    for d in 0..<2 {
                        let variance = v[2 * k + d], deviation = Double(x.scalars[2 * row + d]) - mu[2 * k + d]
                        term -= 0.5 * (Foundation.log(2 * Double.pi * variance) + deviation * deviation / variance)
                    }
                    terms.append(term)
                }
                let top = terms.max()!
                total += top + Foundation.log(terms.map { Foundation.exp($0 - top) }.reduce(0, +))
            }
            XCTAssertEqual(Double(result.logLikelihood), total / 400, accuracy: 1e-5, "\(iterations) iterations")
        }
    }

    /// A component that no point is near keeps finite parameters (its weight goes to zero).
    func testAnEmptyComponentStaysFinite() {
        let result = GaussianMixtureEM.fit(twoClusters(), locs: Tensor([[0, 0], [6, 1], [500, 500]]))
        XCTAssertTrue(result.locs.isFinite && result.variances.isFinite && result.weights.isFinite)
        XCTAssertTrue(result.logLikelihood.isFinite)
        XCTAssertLessThan(result.weights.scalars[2], 1e-3)
        XCTAssertEqual(result.weights.sum().scalar, 1, accuracy: 1e-5)
    }

    /// One column of data: the mixture of two well-separated normals is found, with the
    /// closed-form log-likelihood of the fitted mixture.
    func testOneColumnData() {
        var generator = RandomGenerator(seed: 13)
        let x = Tensor.concatenate([Tensor.randomNormal([200, 1], using: &generator) - 4, Tensor.randomNormal([200, 1], using: &generator) + 4])
        let result = GaussianMixtureEM.bestOfStarts(x, locs: Tensor([[-1], [1]]))
        XCTAssertEqual(result.locs.scalars.sorted()[0], -4, accuracy: 0.25)
        XCTAssertEqual(result.locs.scalars.sorted()[1], 4, accuracy: 0.25)
        let values = x.scalars.map(Double.init), weights = result.weights.scalars.map(Double.init)
        let locs = result.locs.scalars.map(Double.init), variances = result.variances.scalars.map(Double.init)
        let exact = values.map { value in
            Foundation.log((0..<2).map { k in weights[k] * Foundation.exp(-0.5 * (value - locs[k]) * (value - locs[k]) / variances[k]) / (2 * Double.pi * variances[k]).squareRoot() }.reduce(0, +))
        }.reduce(0, +) / 400
        XCTAssertEqual(Double(result.logLikelihood), exact, accuracy: 1e-4)
    }
}

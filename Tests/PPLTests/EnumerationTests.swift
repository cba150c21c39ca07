import Foundation
import Distributions
import PPL
import TensorCore
import XCTest

/// Exact enumeration against the closed form of small mixtures.
final class EnumerationTests: XCTestCase {
    /// p(x_n) = sum_k w_k N(x_n; m_k, s_k^2), and p(z_n = k | x_n) = w_k N(x_n; m_k, s_k^2) / p(x_n).
    func testTwoComponentMixtureMatchesTheFormula() throws {
        let weights: [Double] = [0.3, 0.7], locs: [Double] = [-1, 2], scales: [Double] = [0.5, 1.5]
        let mixture = Model("mixture") { (x: Tensor) in
            plate("data", size: x.shape[0]) {
                let z = latent("z") ~ Categorical(probs: Tensor(weights.map(Float.init)))
                observe("x", x) ~ Normal(Tensor(locs.map(Float.init))[z], Tensor(scales.map(Float.init))[z])
            }
        }
        let data: [Double] = [-1.2, 0.4, 2.5, 5]
        func density(_ x: Double, _ k: Int) -> Double {
            weights[k] * Foundation.exp(-0.5 * pow((x - locs[k]) / scales[k], 2)) / (scales[k] * (2 * Double.pi).squareRoot())
        }
        let x = Tensor(data.map(Float.init))
        let expectedLog = data.map { Foundation.log(density($0, 0) + density($0, 1)) }.reduce(0, +)
        XCTAssertEqual(Double(try mixture.logMarginalLikelihood(x).scalar), expectedLog, accuracy: 1e-4)
        let posterior = try mixture.exactPosterior(x, site: "z")
        XCTAssertEqual(posterior.shape, [4, 2])
        for (n, value) in data.enumerated() {
            let total = density(value, 0) + density(value, 1)
            XCTAssertEqual(Double(posterior.scalars[2 * n]), density(value, 0) / total, accuracy: 1e-5)
            XCTAssertEqual(Double(posterior.scalars[2 * n + 1]), density(value, 1) / total, accuracy: 1e-5)
        }
    }

    /// A global discrete latent shared by every point: p(x) = sum_k w_k prod_n N(x_n; m_k, 1).
    func testGlobalDiscreteLatentIsSummedAfterThePlate() throws {
        let model = Model("global") { (x: Tensor) in
            let regime = latent("regime") ~ Bernoulli(probs: 0.4)
            plate("data", size: x.shape[0]) {
                observe("x", x) ~ Normal(regime * 3, 1)
            }
        }
        let data: [Double] = [0.5, 2.5, 3.1]
        func logLikelihood(_ mean: Double) -> Double { data.map { -0.5 * pow($0 - mean, 2) - 0.5 * Foundation.log(2 * Double.pi) }.reduce(0, +) }
        let joint = [Foundation.log(0.6) + logLikelihood(0), Foundation.log(0.4) + logLikelihood(3)]
        let total = Foundation.log(Foundation.exp(joint[0]) + Foundation.exp(joint[1]))
        let x = Tensor(data.map(Float.init))
        XCTAssertEqual(Double(try model.logMarginalLikelihood(x).scalar), total, accuracy: 1e-4)
        let posterior = try model.exactPosterior(x, site: "regime")
        XCTAssertEqual(posterior.shape, [2])
        XCTAssertEqual(Double(posterior.scalars[1]), Foundation.exp(joint[1] - total), accuracy: 1e-5)
    }

    func testSubsampledPlateScalesTheMarginal() throws {
        let model = Model("scaled") { (x: Tensor) in
            plate("data", size: 100, subsample: x) {
                let z = latent("z") ~ Bernoulli(probs: 0.5)
                observe("x", x) ~ Normal(z, 1)
            }
        }
        let single = Model("single") { (x: Tensor) in
            plate("data", size: x.shape[0]) {
                let z = latent("z") ~ Bernoulli(probs: 0.5)
                observe("x", x) ~ Normal(z, 1)
            }
        }
        let x = Tensor([0.2, 0.9])
        XCTAssertEqual(try model.logMarginalLikelihood(x).scalar, 50 * (try single.logMarginalLikelihood(x).scalar), accuracy: 1e-3)
    }

    /// A site observed in some rows: those rows count once with the observed value (not once
    /// per enumerated value), and their posterior is the observation itself.
    func testPartlyObservedSiteCountsObservedRowsOnce() throws {
        let model = Model("partly observed") { (x: Tensor, labels: Tensor, known: Tensor) in
            plate("data", size: x.shape[0]) {
                let z = observe("z", labels, where: known) ~ Bernoulli(probs: 0.3)
                observe("x", x) ~ Normal(2 * z, 1)
            }
        }
        let x = Tensor([0.1, 1.9, 2.5, -0.3]), labels = Tensor([0, 1, 0, 0]), known = Tensor([1, 1, 0, 0])
        func density(_ value: Double, _ z: Double) -> Double { -0.5 * (value - 2 * z) * (value - 2 * z) - 0.5 * Foundation.log(2 * Double.pi) }
        var exact = Foundation.log(0.7) + density(0.1, 0) + Foundation.log(0.3) + density(1.9, 1)
        var posterior: [Double] = []
        for value in [2.5, -0.3] {
            let joint = [Foundation.log(0.7) + density(value, 0), Foundation.log(0.3) + density(value, 1)]
            let total = Foundation.log(Foundation.exp(joint[0]) + Foundation.exp(joint[1]))
            exact += total
            posterior += joint.map { Foundation.exp($0 - total) }
        }
        XCTAssertEqual(Double(try model.logMarginalLikelihood(x, labels, known).scalar), exact, accuracy: 1e-5)
        let computed = try model.exactPosterior(x, labels, known, site: "z").scalars.map(Double.init)
        let expected = [1, 0, 0, 1] + posterior
        for (ours, theirs) in zip(computed, expected) { XCTAssertEqual(ours, theirs, accuracy: 1e-5) }
    }

    /// Defect: these returned a different random number on each call. A continuous latent
    /// makes the exact sum impossible, and the error names it.
    func testContinuousSiteCannotBeEnumerated() throws {
        let model = Model("continuous") { (x: Tensor) in
            let mu = latent("mu") ~ Normal(0, 1)
            observe("x", x) ~ Normal(mu, 1)
        }
        let message = "site 'mu' at PPLTests/EnumerationTests.swift:\(#line - 3) cannot be summed out exactly: it has infinite support (Normal); exact posteriors and marginal likelihoods need every latent site to be discrete with a finite support to list; estimate log p(x) by importance sampling with a trained guide instead"
        XCTAssertThrowsError(try model.exactPosterior(Tensor([1]), site: "mu")) { XCTAssertEqual("\($0)", message) }
        XCTAssertThrowsError(try model.logMarginalLikelihood(Tensor([1]))) { XCTAssertEqual("\($0)", message) }
        // Fourteen binary elements have a finite support, but of 16384 values (it said
        // "infinite"); a count is infinite.
        let count = Model("count") { (x: Tensor) in
            let k = latent("k") ~ Poisson(rate: 2)
            observe("x", x) ~ Normal(k, 1)
        }
        XCTAssertThrowsError(try count.logMarginalLikelihood(Tensor([1]))) { error in
            XCTAssertTrue("\(error)".contains("cannot be summed out exactly: it has infinite support (Poisson)"), "\(error)")
        }
        let bits = Model("bits") { (x: Tensor) in
            let c = latent("c") ~ Bernoulli(probs: Tensor.full([14], 0.5)).independent(1)
            observe("x", x) ~ Normal(c.sum(), 1)
        }
        XCTAssertThrowsError(try bits.logMarginalLikelihood(Tensor([1]))) { error in
            XCTAssertTrue("\(error)".hasPrefix("site 'c' at PPLTests/EnumerationTests.swift:\(#line - 4) cannot be summed out exactly: its support is finite but too large to list: 14 elements of 2 values each make 2^14 combinations, more than the 4096 listed (Independent<Bernoulli>)"), "\(error)")
        }
        let discrete = Model("discrete") { (x: Tensor) in
            let z = latent("z") ~ Bernoulli(probs: 0.3)
            observe("x", x) ~ Normal(z, 1)
        }
        XCTAssertThrowsError(try discrete.exactPosterior(Tensor([1]), site: "nu")) { error in
            XCTAssertEqual("\(error)", "model 'discrete' has no site 'nu' (its sites: z)")
        }
    }
}

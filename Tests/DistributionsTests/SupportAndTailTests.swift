import Foundation
import Distributions
import TensorCore
import XCTest

/// Enumerated supports, and densities far in the tails stay finite and correct.
final class SupportAndTailTests: XCTestCase {
    func testEnumeratedSupportsHaveTotalMassOne() {
        let bernoulli = Bernoulli(logits: Tensor([0.3, -2, 4]))
        let values = try! XCTUnwrap(bernoulli.enumerateSupport())
        XCTAssertEqual(values.shape, [2, 1])
        for total in bernoulli.logProb(values).logSumExp(axis: 0).scalars { XCTAssertEqual(total, 0, accuracy: 1e-6) }
        let categorical = Categorical(logits: Tensor([[1, 2, 3], [0, -50, 50]]))
        let categories = try! XCTUnwrap(categorical.enumerateSupport())
        XCTAssertEqual(categories.shape, [3, 1])
        for total in categorical.logProb(categories).logSumExp(axis: 0).scalars { XCTAssertEqual(total, 0, accuracy: 1e-6) }
        XCTAssertNil(Normal(0, 1).enumerateSupport())
    }

    /// A vector of binary elements is enumerated jointly: 2^3 distinct configurations, in the
    /// order of a binary count, whose probabilities are the products of the elements'.
    func testIndependentBernoulliVectorEnumeratesEveryConfiguration() throws {
        let vector = Bernoulli(probs: Tensor([[0.2, 0.7, 0.5], [0.9, 0.1, 0.4]])).independent(1)
        let values = try XCTUnwrap(vector.enumerateSupport())
        XCTAssertEqual(values.shape, [8, 1, 3])
        XCTAssertEqual(Array(values.scalars[(5 * 3)..<(6 * 3)]), [1, 0, 1])
        XCTAssertEqual(Set((0..<8).map { Array(values.scalars[(3 * $0)..<(3 * $0 + 3)]) }).count, 8)
        let probabilities = exp(vector.logProb(values))
        for total in probabilities.sum(axis: 0).scalars { XCTAssertEqual(total, 1, accuracy: 1e-6) }
        XCTAssertEqual(probabilities.scalars[5 * 2], 0.2 * 0.3 * 0.5, accuracy: 1e-6, "P(1, 0, 1) in the first row")
        XCTAssertNil(Bernoulli(probs: Tensor.full([13], 0.5)).independent(1).enumerateSupport(), "2^13 values pass the limit of 4096")
    }

    func testLogitsOfFiftyStayExact() {
        let bernoulli = Bernoulli(logits: Tensor([50, -50]))
        let tiny = -Foundation.log1p(Foundation.exp(-50.0))
        let expected: [[Double]] = [[tiny, -50 + tiny], [-50 + tiny, tiny]]
        for (value, row) in zip([Tensor([1, 1]), Tensor([0, 0])], expected) {
            for (ours, exact) in zip(bernoulli.logProb(value).scalars, row) {
                XCTAssertEqual(Double(ours), exact, accuracy: 1e-7 * Swift.abs(exact) + 1e-21)
            }
        }
        let categorical = Categorical(logits: Tensor([50, -50, 0]))
        XCTAssertEqual(categorical.logProb(Tensor([0, 1, 2])).scalars, [0, -100, -50])
    }

    func testNormalWithTinyAndHugeScalesAndFarTails() {
        XCTAssertEqual(Normal(0, 1e-6).logProb(Tensor(0)).scalar, Float(-Foundation.log(1e-6) - 0.5 * Foundation.log(2 * Double.pi)), accuracy: 1e-5)
        XCTAssertEqual(Normal(0, 1e6).logProb(Tensor(1e6)).scalar, Float(-0.5 - Foundation.log(1e6) - 0.5 * Foundation.log(2 * Double.pi)), accuracy: 1e-5)
        let far = Normal(0, 1).logProb(Tensor(141)).scalar
        XCTAssertEqual(far, Float(-0.5 * 141 * 141 - 0.5 * Foundation.log(2 * Double.pi)), accuracy: 1e-2)
        XCTAssertTrue(far.isFinite)
    }

    /// A Beta or Dirichlet density is finite at an end of its support when the concentration
    /// there is 1; the term 0 * log 0 made it NaN (Beta(1, 3) at 0 is 3, Beta(2, 1) at 1 is 2,
    /// Dirichlet(1, 2, 1) at (0, 1, 0) is 6), and so did its gradient.
    func testBetaAndDirichletAtTheEndsOfTheirSupport() {
        XCTAssertEqual(Beta(1, 3).logProb(Tensor(0)).scalar, Float(Foundation.log(3.0)), accuracy: 1e-6)
        XCTAssertEqual(Beta(2, 1).logProb(Tensor(1)).scalar, Float(Foundation.log(2.0)), accuracy: 1e-6)
        XCTAssertEqual(Beta(1, 1).logProb(Tensor([0, 0.5, 1])).scalars, [0, 0, 0])
        XCTAssertEqual(Dirichlet(Tensor([1, 2, 1])).logProb(Tensor([0, 1, 0])).scalar, Float(Foundation.log(6.0)), accuracy: 1e-5)
        XCTAssertEqual(Beta(3, 1).logProb(Tensor(0)).scalar, -.infinity)
        let tape = GradientTape()
        let value = tape.watch(Tensor([0, 0.25]))
        let gradient = tape.gradient(of: tape.record { Beta(1, 3).logProb(value).sum() }, withRespectTo: [value])[0]
        XCTAssertEqual(gradient.scalars, [-2, -2 / 0.75].map(Float.init))
    }
}

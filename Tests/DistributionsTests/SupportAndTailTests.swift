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
}

import Distributions
import PPL
import TensorCore
import XCTest

/// Each mistake in a model is a thrown error naming the site, the shapes, and the file and
/// line of the site.
final class ModelErrorTests: XCTestCase {
    func assertThrows<each Input>(_ model: Model<repeat each Input>, _ input: repeat each Input, message expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try model.trace(repeat each input), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testDuplicateSiteNames() {
        let model = Model("twice") { (n: Int) in
            latent("z") ~ Normal(0, 1)
            latent("z") ~ Normal(0, 1)
        }
        assertThrows(model, 1, message: "site 'z' at PPLTests/ModelErrorTests.swift:18 has the same name as the site at PPLTests/ModelErrorTests.swift:17; site names must be unique")
    }

    func testObservationOfTheWrongShape() {
        let model = Model("shape") { (x: Tensor) in
            observe("x", x) ~ Normal(Tensor.zeros([3, 2]), 1).independent(1)
        }
        assertThrows(model, Tensor.zeros([3, 4]), message: "site 'x' at PPLTests/ModelErrorTests.swift:25: observed value has shape [3, 4], expected [3, 2]")
    }

    func testPlateSizeDisagreesWithTheData() {
        let model = Model("plate") { (x: Tensor) in
            plate("data", size: 5) {
                observe("x", x) ~ Normal(0, 1)
            }
        }
        assertThrows(model, Tensor.zeros([4]), message: "site 'x' at PPLTests/ModelErrorTests.swift:33: plate 'data' has size 5 but the data have 4 along its dimension (-1)")
    }

    func testValueOutsideTheSupport() {
        let model = Model("coin") { (x: Tensor) in
            observe("flip", x) ~ Bernoulli(probs: 0.5)
        }
        assertThrows(model, Tensor([1, 0.3]), message: "site 'flip' at PPLTests/ModelErrorTests.swift:41: Bernoulli: value 0.3 at index [1] is outside the support (boolean {0, 1})")
    }

    func testLatentThatDoesNotBroadcastToItsPlate() {
        let model = Model("broadcast") { (n: Int) in
            plate("data", size: n) {
                latent("z") ~ Normal(Tensor.zeros([3]), 1)
            }
        }
        assertThrows(model, 5, message: "site 'z' at PPLTests/ModelErrorTests.swift:49: distribution batch shape [3] does not broadcast to plate 'data' of size 5 at dimension -1")
    }

    func testShapeErrorInTheModelsOwnCodeNamesTheNextSite() {
        let model = Model("matmul") { (x: Tensor) in
            let weights = Tensor.zeros([3, 2])
            let hidden = matmul(x, weights)
            observe("y", Tensor.zeros([4, 2])) ~ Normal(hidden, 1)
        }
        assertThrows(model, Tensor.zeros([4, 5]), message: "site 'y' at PPLTests/ModelErrorTests.swift:59: matmul: cannot multiply [4, 5] by [3, 2]: inner dimensions 5 and 3 differ")
    }

    func testBadDistributionParameterNamesTheSite() {
        let model = Model("scale") { (x: Tensor) in
            observe("x", x) ~ Normal(0, Tensor([1, -1]))
        }
        assertThrows(model, Tensor([0, 0]), message: "site 'x' at PPLTests/ModelErrorTests.swift:66: Normal: parameter 'scale' must be positive and finite, got -1.0 at index [1]")
    }

    /// A parameter that starts outside its constraint (or at NaN) has no finite unconstrained
    /// value: it made the first step's objective NaN, reported at the observed site.
    func testAParameterStartingOutsideItsConstraint() {
        let negative = Model("negative") { (x: Tensor) in
            let spread = param("spread", Tensor(-1), constraint: .positive)
            observe("x", x) ~ Normal(0, spread)
        }
        assertThrows(negative, Tensor(0.5), message: "parameter 'spread' at PPLTests/ModelErrorTests.swift:\(#line - 3): its initial value -1.0 at element 0 is not inside its constraint (positive); start it inside, away from the edges")
        let edge = Model("edge") { (x: Tensor) in
            let p = param("p", Tensor([0.3, 1]), constraint: .unitInterval)
            let w = param("w", Tensor([1, 0, 0]), constraint: .simplex)
            observe("x", x) ~ Bernoulli(probs: p * w[0])
        }
        assertThrows(edge, Tensor([1, 0]), message: "parameter 'p' at PPLTests/ModelErrorTests.swift:\(#line - 4): its initial value 1.0 at element 1 is not inside its constraint (unit interval [0, 1]); start it inside, away from the edges")
        let corner = Model("corner") { (x: Tensor) in
            let w = param("w", Tensor([1, 0, 0]), constraint: .simplex)
            observe("x", x) ~ Categorical(probs: w)
        }
        assertThrows(corner, Tensor(0), message: "parameter 'w' at PPLTests/ModelErrorTests.swift:\(#line - 3): its initial value is on the edge of its constraint (simplex); start it inside")
        let missing = Model("nan") { (x: Tensor) in
            let loc = param("loc", Tensor([0, .nan]))
            observe("x", x) ~ Normal(loc, 1)
        }
        assertThrows(missing, Tensor([0.5, 1]), message: "parameter 'loc' at PPLTests/ModelErrorTests.swift:\(#line - 3): its initial value is nan at element 1; start it at a finite value")
    }

    func testEmptySiteNames() {
        let model = Model("unnamed") { (x: Tensor) in
            observe("", x) ~ Normal(0, 1)
        }
        assertThrows(model, Tensor(0.5), message: "the observed site at PPLTests/ModelErrorTests.swift:\(#line - 2) has an empty name; every site needs a name of its own")
    }

    func testAOneColumnTableObservedAsScalarsIsExplained() {
        // A one-column file's rows, [N, 1], observed as N scalars: the message said only that
        // the data have 1 along the plate's dimension.
        let column = Model("counts") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                observe("x", x) ~ Poisson(rate: 2)
            }
        }
        assertThrows(column, Tensor.zeros([3, 1]), 6, message: "site 'x' at PPLTests/ModelErrorTests.swift:\(#line - 3): plate 'data' has 3 elements in this minibatch (of 6) but the data have 1 along its dimension (-1); the observed value has shape [3, 1], one row of one value each: observe a vector (x.reshaped(to: [-1])), or make the last axis an event (.independent(1))")
    }
}

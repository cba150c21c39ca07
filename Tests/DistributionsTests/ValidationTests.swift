import Distributions
import TensorCore
import XCTest

/// Bad parameters and values become thrown errors naming the distribution, the parameter or
/// value, and the offending index; with validation off they are not checked.
final class ValidationTests: XCTestCase {
    func assertThrows(_ expected: String, _ body: () -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try checkingTensorErrors(body), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testBadParametersAndValues() {
        assertThrows("Normal: parameter 'scale' must be positive and finite, got -1.0 at index [2]") { _ = Normal(0, Tensor([1, 2, -1])) }
        assertThrows("Normal: parameter 'scale' must be positive and finite, got 0.0 at index [0, 1]") { _ = Normal(Tensor.zeros([2, 2]), Tensor([[1, 0], [1, 1]])) }
        assertThrows("Bernoulli: parameter 'probs' must be in [0, 1], got 1.5 at index [1]") { _ = Bernoulli(probs: Tensor([0.5, 1.5])) }
        assertThrows("Bernoulli: value 0.3 at index [0] is outside the support (boolean {0, 1})") { _ = Bernoulli(probs: 0.5).logProb(Tensor([0.3])) }
        assertThrows("Poisson: value -1.0 at index [1] is outside the support (nonnegative integers)") { _ = Poisson(rate: 2).logProb(Tensor([3, -1])) }
        assertThrows("Categorical: parameter 'probs' must be nonnegative, got -0.1 at index [0, 2]") { _ = Categorical(probs: Tensor([[0.5, 0.6, -0.1]])) }
        assertThrows("Categorical: value 3.0 at index [0] is outside the support (integers 0...2)") { _ = Categorical(logits: Tensor([0, 0, 0])).logProb(Tensor([3])) }
        assertThrows("Dirichlet: parameter 'concentration' must be positive and finite, got 0.0 at index [1]") { _ = Dirichlet(Tensor([1, 0, 2])) }
        assertThrows("Dirichlet: value 0.5 at index [0] is outside the support (simplex)") { _ = Dirichlet(Tensor([1, 1])).logProb(Tensor([0.5, 0.6])) }
        assertThrows("Gamma: parameter 'rate' must be positive and finite, got -2.0 at index []") { _ = Gamma(concentration: 1, rate: -2) }
        assertThrows("Gamma: parameter 'concentration' must be positive and finite, got inf at index []") { _ = Gamma(concentration: Tensor(.infinity), rate: 1) }
        assertThrows("Normal: parameter 'scale' must be positive and finite, got inf at index [1]") { _ = Normal(0, Tensor([1, .infinity])) }
        assertThrows("Beta: value 1.5 at index [0] is outside the support (unit interval [0, 1])") { _ = Beta(2, 2).logProb(Tensor([1.5])) }
        assertThrows("Uniform: value 3.0 at index [1] is outside the support (interval [0.0, 2.0])") { _ = Uniform(0, 2).logProb(Tensor([1, 3])) }
        // It said "value nan" for a number not in its list.
        assertThrows("FiniteDiscrete: value 3.0 at index [1] is outside the support (its 3 listed values)") {
            _ = FiniteDiscrete(values: Tensor([0.5, 2, 5]), logits: Tensor.zeros([3])).logProb(Tensor([2, 3]))
        }
        assertThrows("Normal: parameter 'scale' of shape [3] does not broadcast with [2]") { _ = Normal(Tensor([0, 0]), Tensor([1, 1, 1])) }
        assertThrows("MultivariateNormal: parameter 'scaleTril' must be lower triangular with a positive diagonal, got 1.0 at index [0, 1]") {
            _ = MultivariateNormal(loc: Tensor([0, 0]), scaleTril: Tensor([[1, 1], [0, 1]]))
        }
        // These gave NaN or inf log-densities with no error (helper-33).
        assertThrows("Normal: parameter 'loc' must be finite, got nan at index [1]") { _ = Normal(Tensor([0, .nan]), 1) }
        assertThrows("Laplace: parameter 'loc' must be finite, got inf at index []") { _ = Laplace(Tensor(.infinity), Tensor(1)) }
        assertThrows("StudentT: parameter 'loc' must be finite, got nan at index []") { _ = StudentT(df: Tensor(3), loc: Tensor(.nan), scale: Tensor(1)) }
        assertThrows("MultivariateNormal: parameter 'loc' must be finite, got nan at index [0]") { _ = MultivariateNormal(loc: Tensor([.nan, 0]), scaleTril: Tensor([[1, 0], [0, 1]])) }
        assertThrows("Bernoulli: parameter 'logits' must be finite, got inf at index [0]") { _ = Bernoulli(logits: Tensor([.infinity])) }
        assertThrows("Categorical: parameter 'sum of probs' must be positive and finite, got 0.0 at index [1]") { _ = Categorical(probs: Tensor([[1, 0], [0, 0]])) }
        assertThrows("Categorical: parameter 'largest of logits' must be finite, got -inf at index []") { _ = Categorical(logits: Tensor([-.infinity, -.infinity])) }
        assertThrows("Bernoulli has no reparameterized sampler; use sample() with a score-function estimator") {
            var generator = RandomGenerator(seed: 1)
            _ = Bernoulli(probs: 0.5).rsample([2], using: &generator)
        }
    }

    /// Each elementwise support check rules out exactly the values its definition does.
    func testSupportChecksAgreeWithTheirDefinitions() {
        let definitions: [(Constraint, (Float) -> Bool)] = [
            (.real, { !$0.isNaN }), (.positive, { $0 > 0 }), (.unitInterval, { $0 >= 0 && $0 <= 1 }), (.boolean, { $0 == 0 || $0 == 1 }),
            (.integerInterval(-2, 3), { $0 == $0.rounded() && $0 >= -2 && $0 <= 3 }), (.integerInterval(2, 1), { _ in false }),
            (.nonnegativeInteger, { $0 == $0.rounded() && $0 >= 0 && $0.isFinite }),
        ]
        let values: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, -2, -3, 3, 4, 0.5, 2.5, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e30]
        for (constraint, isInside) in definitions {
            for value in values {
                XCTAssertEqual(constraint.firstViolation(in: Tensor([1, value])) == nil, isInside(1) && isInside(value), "\(value) in \(constraint)")
            }
        }
    }

    func testValidationCanBeSwitchedOff() throws {
        DistributionValidation.isEnabled = false
        defer { DistributionValidation.isEnabled = true }
        let logProb = try checkingTensorErrors { Normal(0, -1).logProb(Tensor([0])) }
        XCTAssertTrue(logProb.scalars[0].isNaN)
    }

    func testNoClosedFormKLSaysSoPlainly() {
        XCTAssertThrowsError(try klDivergence(Normal(0, 1), Laplace(0, 1))) { error in
            XCTAssertEqual("\(error)", "no closed-form KL divergence is known for Normal and Laplace; estimate it by Monte Carlo")
        }
        XCTAssertFalse(hasClosedFormKL(Normal(0, 1), Laplace(0, 1)))
        XCTAssertTrue(hasClosedFormKL(Normal(0, 1).expanded(to: [3]).independent(1), Normal(1, 2).expanded(to: [3]).independent(1)))
    }
}

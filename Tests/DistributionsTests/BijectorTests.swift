import Foundation
import Distributions
import TensorCore
import XCTest

/// Bijectors: round trips, log |det J| against a numerical Jacobian (central differences with
/// step 1e-2 in Float32: truncation ~1e-4, rounding ~1e-5, so 2e-3 absolute), and each
/// constraint's bijector lands in its set.
final class BijectorTests: XCTestCase {
    let x = Tensor([-2, -0.5, 0, 0.7, 1.9])

    func testElementwiseRoundTripsAndJacobians() {
        let bijectors: [any Bijector] = [
            ExpBijector(), SoftplusBijector(), SigmoidBijector(), AffineBijector(loc: 1, scale: -3),
            ComposedBijector([SigmoidBijector(), AffineBijector(loc: 2, scale: 5)]),
        ]
        for bijector in bijectors {
            let y = bijector.forward(x)
            for (a, b) in zip(bijector.inverse(y).scalars, x.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(bijector) round trip") }
            let h: Float = 1e-2
            let numerical = ((bijector.forward(x + h) - bijector.forward(x - h)) / (2 * h)).scalars.map { Foundation.log(Swift.abs($0)) }
            for (a, b) in zip(bijector.logAbsDetJacobian(x, y).scalars, numerical) { XCTAssertEqual(a, b, accuracy: 2e-3, "\(bijector) log det") }
        }
    }

    /// log |det| of a small square matrix by Gaussian elimination with partial pivoting.
    func logAbsDeterminant(_ matrix: [[Double]]) -> Double {
        var a = matrix
        var total = 0.0
        for column in a.indices {
            let pivot = (column..<a.count).max { Swift.abs(a[$0][column]) < Swift.abs(a[$1][column]) }!
            a.swapAt(column, pivot)
            total += Foundation.log(Swift.abs(a[column][column]))
            for row in (column + 1)..<a.count {
                let factor = a[row][column] / a[column][column]
                for j in column..<a.count { a[row][j] -= factor * a[column][j] }
            }
        }
        return total
    }

    func testStickBreakingMapsOntoTheSimplexWithTheRightJacobian() {
        let bijector = StickBreakingBijector()
        let input = Tensor([0.3, -1.2, 0.8])
        let y = bijector.forward(input)
        XCTAssertEqual(y.shape, [4])
        XCTAssertNil(Constraint.simplex.firstViolation(in: y))
        for (a, b) in zip(bijector.inverse(y).scalars, input.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        XCTAssertEqual(bijector.forward(Tensor.zeros([3])).scalars, [0.25, 0.25, 0.25, 0.25].map { Float($0) }, "x = 0 maps to the centre")
        let h: Float = 1e-2
        let jacobian = (0..<3).map { i -> [Double] in
            let step = Tensor((0..<3).map { $0 == i ? h : 0 })
            let column = ((bijector.forward(input + step) - bijector.forward(input - step)) / (2 * h)).scalars
            return column.prefix(3).map(Double.init)
        }
        let transposed = (0..<3).map { row in (0..<3).map { jacobian[$0][row] } }
        XCTAssertEqual(Double(bijector.logAbsDetJacobian(input, y).scalar), logAbsDeterminant(transposed), accuracy: 2e-3)
    }

    func testLowerCholeskyMapsOntoFactorsWithTheRightJacobian() {
        let bijector = LowerCholeskyBijector()
        let input = Tensor([[0.3, 5], [-1.2, 0.8]])
        let y = bijector.forward(input)
        XCTAssertNil(Constraint.lowerCholesky.firstViolation(in: y))
        XCTAssertEqual(y.scalars, [Float(exp(0.3)), 0, -1.2, Float(exp(0.8))])
        let back = bijector.inverse(y)
        XCTAssertEqual(back.scalars[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(back.scalars[2], -1.2, accuracy: 1e-6)
        // On the lower entries the map is the identity off the diagonal and exp on it.
        XCTAssertEqual(bijector.logAbsDetJacobian(input, y).scalar, 1.1, accuracy: 1e-6)
    }

    func testEachConstraintBijectorLandsInItsSet() {
        var generator = RandomGenerator(seed: 1)
        let free = Tensor.randomNormal([50, 3], using: &generator) * 3
        let constraints: [Constraint] = [.real, .positive, .greaterThan(Tensor(2)), .interval(Tensor(-1), Tensor(4)), .unitInterval, .simplex]
        for constraint in constraints {
            let y = constraint.bijector!.forward(free)
            XCTAssertNil(constraint.firstViolation(in: y), "\(constraint)")
        }
        XCTAssertNil(Constraint.lowerCholesky.firstViolation(in: Constraint.lowerCholesky.bijector!.forward(free.slice(axis: 0, 0..<3))))
        XCTAssertNil(Constraint.boolean.bijector)
    }

    func testTransformedDistributionMatchesLogNormal() {
        let direct = LogNormal(0.3, 0.8)
        let transformed = TransformedDistribution(Normal(0.3, 0.8), ExpBijector())
        let y = Tensor([0.1, 1, 4])
        for (a, b) in zip(direct.logProb(y).scalars, transformed.logProb(y).scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // Gaussian density on the simplex through stick breaking integrates over its image: check one value against the formula.
        let base = Normal(Tensor.zeros([2]), 1)
        let onSimplex = TransformedDistribution(base, StickBreakingBijector())
        XCTAssertEqual(onSimplex.eventShape, [3])
        let point = Tensor([0.2, 0.5, 0.3])
        let x = StickBreakingBijector().inverse(point)
        let expected = base.logProb(x).sum() - StickBreakingBijector().logAbsDetJacobian(x, point)
        XCTAssertEqual(onSimplex.logProb(point).scalar, expected.scalar, accuracy: 1e-5)
    }
}

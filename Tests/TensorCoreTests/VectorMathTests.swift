import Foundation
import TensorCore
import XCTest

/// The vectorized transcendental kernels against Double libm over wide sweeps and at the
/// special values. Float32 rounding alone gives 6e-8 relative error; 1e-6 allows a few ulp.
final class VectorMathTests: XCTestCase {
    func sweep(_ low: Float, _ high: Float, count: Int = 20_011) -> [Float] {
        (0..<count).map { low + (high - low) * Float($0) / Float(count - 1) }
    }

    func assertAccurate(_ f: (Tensor) -> Tensor, _ reference: (Double) -> Double, over inputs: [Float], relative: Double = 1e-6, absolute: Double = 0, file: StaticString = #filePath, line: UInt = #line) {
        let outputs = f(Tensor(inputs)).scalars
        var worst = (error: 0.0, x: Float(0))
        for (x, y) in zip(inputs, outputs) {
            let expected = reference(Double(x))
            if expected.isNaN, y.isNaN { continue }
            if expected.isInfinite || Double(Float(expected)).isInfinite {
                XCTAssertEqual(Double(y), Double(Float(expected)), "at \(x)", file: file, line: line)
                continue
            }
            let error = Swift.abs(Double(y) - expected) / Swift.max(Swift.abs(expected), absolute / relative, Double(Float.leastNormalMagnitude))
            if error > worst.error { worst = (error, x) }
        }
        XCTAssertLessThan(worst.error, relative, "worst relative error at x = \(worst.x)", file: file, line: line)
    }

    func testExp() {
        assertAccurate(exp, Foundation.exp, over: sweep(-87, 88.5) + [-1e-7, 0, 1e-7, -100, 100, -.infinity, .infinity, .nan])
    }

    func testLog() {
        assertAccurate(log, Foundation.log, over: sweep(1e-6, 10) + sweep(10, 1e30, count: 1001) + [Float.leastNormalMagnitude, 1, 0, -1, .infinity, .nan])
    }

    func testLog1p() {
        assertAccurate(log1p, Foundation.log1p, over: sweep(-0.999, 5) + [-1e-10, 1e-10, 1e-30, 0, -1, 1e20, .infinity])
    }

    func testExpm1() {
        assertAccurate(expm1, Foundation.expm1, over: sweep(-20, 20) + [-1e-10, 1e-10, 0, 88, -100])
    }

    func testTanh() {
        assertAccurate(tanh, Foundation.tanh, over: sweep(-12, 12) + [1e-10, -1e-10, 0, 50, -50, .infinity, -.infinity])
    }

    func testSigmoidInBothTails() {
        assertAccurate(sigmoid, { 1 / (1 + Foundation.exp(-$0)) }, over: sweep(-80, 80) + [-1000, -100, -50, 0, 50, 100, 1000])
    }

    func testSoftplusAndLogSigmoidInBothTails() {
        assertAccurate(softplus, { $0 > 0 ? $0 + Foundation.log1p(Foundation.exp(-$0)) : Foundation.log1p(Foundation.exp($0)) }, over: sweep(-80, 80) + [-1000, -100, -50, 0, 50, 100, 1000])
        assertAccurate(logSigmoid, { $0 < 0 ? $0 - Foundation.log1p(Foundation.exp($0)) : -Foundation.log1p(Foundation.exp(-$0)) }, over: sweep(-80, 80) + [-1000, -100, -50, 0, 50, 100, 1000])
    }

    func testLogSumExpIsStableForLargeAndInfiniteInputs() {
        XCTAssertEqual(Tensor([1000, 1000]).logSumExp(axis: 0).scalar, 1000 + Float(Foundation.log(2.0)), accuracy: 1e-3)
        XCTAssertEqual(Tensor([-1e4, -1e4 - 1]).logSumExp(axis: 0).scalar, -1e4 + Float(Foundation.log1p(Foundation.exp(-1.0))), accuracy: 1e-3)
        XCTAssertEqual(Tensor([-.infinity, -.infinity]).logSumExp(axis: 0).scalar, -.infinity)
    }
}

import TensorCore
import TestSupport
import XCTest

/// The GEMM kernel against a naive Double product on awkward sizes (few rows with a deep or
/// wide B, which read B where it lies), every transpose combination and 1 or 2 threads.
/// Float32 sums of k products of values in [-1, 1] carry relative error about k * 6e-8 at
/// worst and sqrt(k) * 6e-8 typically, so 1e-5 relative to `1 + |reference|` is ample.
final class MatrixKernelTests: XCTestCase {
    override func tearDown() { ComputeThreads.count = 2 }

    func testOddSizesAllTransposesAndThreadCounts() {
        let sizes = [1, 7, 33, 65, 127]
        var generator = RandomGenerator(seed: 7)
        for threads in [1, 2] {
            ComputeThreads.count = threads
            for (m, n, k) in [(1, 1, 1), (7, 33, 65), (127, 1, 7), (33, 127, 1), (65, 65, 127), (127, 127, 127), (20, 200, 784), (24, 47, 530), (6, 2100, 40)] + sizes.map({ ($0, 65, 33) }) {
                for transposeA in [false, true] {
                    for transposeB in [false, true] {
                        let a = Tensor.randomUniform(transposeA ? [k, m] : [m, k], using: &generator) * 2 - 1
                        let b = Tensor.randomUniform(transposeB ? [n, k] : [k, n], using: &generator) * 2 - 1
                        let ours = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
                        let reference = DoubleTensor.matmul(
                            transposeA ? DoubleTensor(a).permuted([1, 0]) : DoubleTensor(a),
                            transposeB ? DoubleTensor(b).permuted([1, 0]) : DoubleTensor(b))
                        XCTAssertEqual(ours.shape, [m, n])
                        let error = zip(ours.scalars, reference.values).map { GradientCheck.relativeError(Double($0), $1) }.max() ?? 0
                        XCTAssertLessThan(error, 1e-5, "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB) threads \(threads)")
                    }
                }
            }
        }
    }

    func testLargeProductSplitAcrossThreadsEqualsSingleThread() {
        var generator = RandomGenerator(seed: 8)
        let a = Tensor.randomUniform([300, 257], using: &generator)
        let b = Tensor.randomUniform([257, 190], using: &generator)
        ComputeThreads.count = 1
        let single = matmul(a, b)
        ComputeThreads.count = 2
        let double = matmul(a, b)
        XCTAssertEqual(single.scalars, double.scalars)
    }
}

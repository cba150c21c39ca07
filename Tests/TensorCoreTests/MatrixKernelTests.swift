import TensorCore
import TestSupport
import XCTest

/// The GEMM kernel against a naive Double product on awkward sizes (few rows with a deep or
/// wide B, which read B where it lies), every transpose combination and 1 or 2 threads.
/// A float32 sum of k products, each rounded once (a fused multiply-add) and added onto the
/// output once per block of k, is off by at most (k + 2) u sum_p |a_ip b_pj| with u = 2^-24,
/// whatever the order of the sum (Higham, Accuracy and Stability, 3.1): the bound the kernel
/// must meet on every instruction set and block size, and one a wrong or missing product breaks.
final class MatrixKernelTests: XCTestCase {
    override func tearDown() { ComputeThreads.count = 2 }

    func testOddSizesAllTransposesAndThreadCounts() {
        let sizes = [1, 7, 33, 65, 127]
        var generator = RandomGenerator(seed: 7)
        for threads in [1, 2] {
            ComputeThreads.count = threads
            for (m, n, k) in [(1, 1, 1), (7, 33, 65), (127, 1, 7), (33, 127, 1), (65, 65, 127), (127, 127, 127), (20, 200, 784), (24, 47, 530), (6, 2100, 40), (200, 45, 600)] + sizes.map({ ($0, 65, 33) }) {
                for transposeA in [false, true] {
                    for transposeB in [false, true] {
                        let a = Tensor.randomUniform(transposeA ? [k, m] : [m, k], using: &generator) * 2 - 1
                        let b = Tensor.randomUniform(transposeB ? [n, k] : [k, n], using: &generator) * 2 - 1
                        let ours = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
                        let left = transposeA ? DoubleTensor(a).permuted([1, 0]) : DoubleTensor(a)
                        let right = transposeB ? DoubleTensor(b).permuted([1, 0]) : DoubleTensor(b)
                        let reference = DoubleTensor.matmul(left, right)
                        let magnitude = DoubleTensor.matmul(left.map(abs), right.map(abs))
                        XCTAssertEqual(ours.shape, [m, n])
                        let bound = Double(k + 2) * 0x1p-24
                        let values = ours.scalars
                        let excess = (0..<reference.count).map { index -> Double in
                            let error = abs(Double(values[index]) - reference.values[index])
                            return error == 0 ? 0 : error / (bound * magnitude.values[index])
                        }.max() ?? 0
                        XCTAssertLessThanOrEqual(excess, 1, "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB) threads \(threads)")
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

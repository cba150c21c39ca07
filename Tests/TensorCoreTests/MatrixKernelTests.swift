import CKernels
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
    /// `affine` adds the bias as the GEMM writes each tile: once (not once per block of k), at its
    /// own column (past the first 2048-column block too), in the direct loop for tiny products,
    /// and onto the taken-apart product of images. The result meets the product's bound with
    /// |bias| added to the magnitude, is the same on one thread and two, and for dense operands
    /// is the bias written into C with the product added onto it, bit for bit.
    func testAffineAddsTheBiasOnceAtItsColumn() {
        var generator = RandomGenerator(seed: 11)
        for (m, n, k, images) in [(3, 4, 5, false), (77, 37, 600, false), (20, 200, 784, false), (40, 2100, 30, false), (300, 45, 300, false),
                                  (128, 400, 784, true), (128, 20, 784, true)] {
            let x = images ? standardizedImages(m, k, using: &generator) : Tensor.randomUniform([m, k], using: &generator) * 2 - 1
            let w = Tensor.randomUniform([k, n], using: &generator) * 2 - 1
            let bias = Tensor.randomUniform([n], using: &generator) * 20 - 10
            var results: [[Float]] = []
            for threads in [1, 2] {
                ComputeThreads.count = threads
                results.append(affine(x, w, bias).scalars)
            }
            XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "m \(m) n \(n) k \(k): one thread and two")
            let product = DoubleTensor.matmul(DoubleTensor(x), DoubleTensor(w)), magnitude = DoubleTensor.matmul(DoubleTensor(x).map(abs), DoubleTensor(w).map(abs))
            let b = bias.scalars.map(Double.init)
            let bound = Double(k + 4) * 0x1p-24
            let excess = (0..<product.count).map { index -> Double in
                let error = abs(Double(results[0][index]) - (product.values[index] + b[index % n]))
                return error == 0 ? 0 : error / (bound * (magnitude.values[index] + abs(b[index % n])))
            }.max() ?? 0
            XCTAssertLessThanOrEqual(excess, 1, "m \(m) n \(n) k \(k)")
            guard !images else { continue }
            var written = (0..<(m * n)).map { bias.scalars[$0 % n] }
            x.scalars.withUnsafeBufferPointer { a in
                w.scalars.withUnsafeBufferPointer { wb in
                    latent_sgemm(Int64(m), Int64(n), Int64(k), 1, a.baseAddress!, Int64(k), 1, wb.baseAddress!, Int64(n), 1, 1, nil, &written, Int64(n))
                }
            }
            XCTAssertEqual(results[0].map(\.bitPattern), written.map(\.bitPattern), "m \(m) n \(n) k \(k): the bias written first")
        }
    }

    /// Standardized binarized images: each pixel takes one value where it is off (-mean / scale,
    /// 0 for a pixel never on) and another where it is on, about 13% of the time.
    func standardizedImages(_ rows: Int, _ pixels: Int, using generator: inout RandomGenerator) -> Tensor {
        let on = Tensor.randomUniform([rows, pixels], using: &generator).scalars.enumerated().map { index, u -> Float in
            index % pixels < pixels / 8 ? 0 : u < 0.13 ? 1 : 0
        }
        let x = Tensor(shape: [rows, pixels], scalars: on)
        let mean = x.mean(axis: 0)
        let scale = Tensor(shape: [pixels], scalars: ((x - mean) * (x - mean)).mean(axis: 0).scalars.map { $0 > 0 ? $0.squareRoot() : 1 })
        return (x - mean) / scale
    }

    /// Such a left operand is a baseline per column plus a sparse rest: the GEMM takes it apart
    /// (baseline share plus the products of the entries off the baseline), in both layouts. The
    /// result meets the bound of the dense kernel with each |a_ip| widened to |a_ip| + 2 |c_p|
    /// (c_p is one of column p's values, at most its largest magnitude), is the same on one
    /// thread and two, and keeps a NaN in its own row.
    func testAMostlyBaselineOperandIsTakenApart() {
        var generator = RandomGenerator(seed: 9)
        for (m, n, k) in [(128, 400, 784), (64, 200, 784), (77, 37, 300), (128, 20, 400)] {
            let images = standardizedImages(m, k, using: &generator)
            let raw = images.scalars
            let baseline = { (values: [Float]) in
                values.withUnsafeBufferPointer { latent_sparse_baseline(Int64(m), Int64(k), $0.baseAddress!, Int64(k), 1).map { Array(UnsafeBufferPointer(start: $0, count: k)) } }
            }
            XCTAssertNotNil(baseline(raw), "standardized images are taken apart")
            let binary = images.scalars.enumerated().map { $0.offset < 3 * k || $0.element <= 0 ? Float(0) : 1 }
            XCTAssertEqual(baseline(binary), [Float](repeating: 0, count: k), "so are binary images, whose baseline is zero")
            XCTAssertNil(baseline(Tensor.randomUniform([m, k], using: &generator).scalars), "dense values are multiplied as they are")
            let b = Tensor.randomUniform([k, n], using: &generator) * 2 - 1
            let g = Tensor.randomUniform([m, n], using: &generator) * 2 - 1
            // As a layer's input (m x k, times b) and in its weights' gradient (transposed, times g).
            for operand in [images, Tensor(shape: [m, k], scalars: binary)] {
                let columnMaximum = DoubleTensor(operand).map(abs).values.enumerated().reduce(into: [Double](repeating: 0, count: k)) { $0[$1.offset % k] = Swift.max($0[$1.offset % k], $1.element) }
                for (left, right, transposeA) in [(operand, b, false), (operand, g, true)] {
                    var results: [[Float]] = []
                    for threads in [1, 2] {
                        ComputeThreads.count = threads
                        results.append(matmul(left, right, transposeA: transposeA).scalars)
                    }
                    XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "m \(m) n \(n) k \(k) transposeA \(transposeA): one thread and two")
                    let l = transposeA ? DoubleTensor(left).permuted([1, 0]) : DoubleTensor(left)
                    let r = DoubleTensor(right)
                    let (rows, inner) = (l.shape[0], l.shape[1])
                    let widened = DoubleTensor(shape: l.shape, values: l.values.enumerated().map { index, value in
                        abs(value) + 2 * (transposeA ? columnMaximum[index / inner] : columnMaximum[index % inner])
                    })
                    let reference = DoubleTensor.matmul(l, r), magnitude = DoubleTensor.matmul(widened, r.map(abs))
                    let bound = Double(inner + 4) * 0x1p-24
                    let excess = (0..<reference.count).map { index -> Double in
                        let error = abs(Double(results[0][index]) - reference.values[index])
                        return error == 0 ? 0 : error / (bound * magnitude.values[index])
                    }.max() ?? 0
                    XCTAssertLessThanOrEqual(excess, 1, "m \(m) n \(n) k \(k) transposeA \(transposeA), \(rows) rows")
                }
            }
            var poisoned = raw
            poisoned[3 * k + 5] = .nan
            let product = matmul(Tensor(shape: [m, k], scalars: poisoned), b).scalars
            XCTAssertTrue(product[(3 * n)..<(4 * n)].allSatisfy(\.isNaN), "the NaN's row is NaN")
            XCTAssertTrue(product[(4 * n)...].allSatisfy(\.isFinite), "the other rows are not")
        }
    }

    /// An infinity in B makes its whole column of A B non-finite in the dense product, even in
    /// rows whose entry of A is 0 (0 times infinity is NaN): taken apart, the same columns are
    /// non-finite, whatever the baseline (zero, zero in half the columns, or not zero) and the
    /// thread count.
    func testAnInfinityInBSpreadsAsInTheDenseProduct() {
        var generator = RandomGenerator(seed: 10)
        let (m, n, k) = (96, 40, 500)
        let images = standardizedImages(m, k, using: &generator).scalars
        let binary = images.map { $0 > 0 ? Float(1) : 0 }
        // Rows 0-2 decide the baseline: all off, or off but for pixels 400-409 (which the second
        // thread takes when the threads split the pixels of the transposed operand).
        let zeroBaseline = binary.enumerated().map { $0.offset < 3 * k ? 0 : $0.element }
        let partlyZeroBaseline = binary.enumerated().map { $0.offset < 3 * k ? ($0.offset >= k && (400..<410).contains($0.offset % k) ? 1 : 0) : $0.element }
        for operand in [images, zeroBaseline, partlyZeroBaseline] {
            var weights = (Tensor.randomUniform([k, n], using: &generator) * 2 - 1).scalars
            weights[7 * n + 3] = .infinity
            var gradient = (Tensor.randomUniform([m, n], using: &generator) * 2 - 1).scalars
            gradient[5 * n + 11] = -.infinity
            for (left, right, transposeA, column) in [(Tensor(shape: [m, k], scalars: operand), Tensor(shape: [k, n], scalars: weights), false, 3),
                                                      (Tensor(shape: [m, k], scalars: operand), Tensor(shape: [m, n], scalars: gradient), true, 11)] {
                var results: [[Float]] = []
                for threads in [1, 2] {
                    ComputeThreads.count = threads
                    results.append(matmul(left, right, transposeA: transposeA).scalars)
                }
                XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern), "transposeA \(transposeA): one thread and two")
                let rows = results[0].count / n
                for index in results[0].indices {
                    XCTAssertEqual(results[0][index].isFinite, index % n != column, "transposeA \(transposeA), row \(index / n) of \(rows), column \(index % n)")
                }
            }
        }
    }
}

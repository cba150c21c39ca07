import TensorCore
import XCTest

/// Where broadcasting, expansion and permutation put each element, against a reference that
/// works out every output element's source index by index (exact equality: nothing is rounded).
final class LayoutTests: XCTestCase {
    /// A tensor of `shape` whose elements are distinct and not integers.
    func distinct(_ shape: [Int], offset: Float = 0) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<count).map { offset + 0.5 + Float($0) * 1.25 })
    }

    /// The row-major index of `shape` at a flat position: along each axis, the position divided
    /// by the axis's stride (the product of the later sizes), modulo the axis's size.
    func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
        shape.indices.map { axis in
            let stride = shape[(axis + 1)...].reduce(1, *)
            return (flat / stride) % shape[axis]
        }
    }

    /// The element of `tensor` that NumPy broadcasting reads at `index` of a larger shape.
    func broadcastElement(_ tensor: Tensor, at index: [Int]) -> Float {
        let offset = index.count - tensor.rank
        var flat = 0
        for axis in 0..<tensor.rank {
            flat = flat * tensor.shape[axis] + (tensor.shape[axis] == 1 ? 0 : index[axis + offset])
        }
        return tensor.scalars[flat]
    }

    /// Shape pairs with broadcast axes at the front, middle and end, rows shorter and longer than
    /// the kernels' short-row threshold, empty axes and scalars.
    let pairs: [([Int], [Int])] = [
        ([], [3]), ([1], [4, 1]), ([3, 1], [3, 5]), ([3, 1, 2], [3, 7, 2]), ([1, 7, 1], [4, 7, 3]),
        ([2, 1, 3], [2, 5, 3]), ([5, 1], [2, 5, 40]), ([1, 40], [6, 40]), ([6, 1], [6, 40]),
        ([2, 1, 1, 3], [2, 4, 5, 3]), ([1, 3, 1, 1, 2], [2, 3, 4, 2, 2]), ([2, 1], [2, 0]), ([0, 1], [0, 3]),
        ([3, 17, 1], [2, 3, 17, 5]), ([1, 1], [300, 2]),
    ]

    func testExpandedPlacesEveryElement() {
        for (source, target) in pairs {
            let x = distinct(source)
            let y = x.expanded(to: target)
            XCTAssertEqual(y.shape, target)
            let values = y.scalars
            for flat in values.indices {
                XCTAssertEqual(values[flat], broadcastElement(x, at: multiIndex(flat, target)), "\(source) to \(target) at \(flat)")
            }
        }
    }

    func testBroadcastArithmeticMatchesElementByElement() {
        for (small, large) in pairs {
            let (a, b) = (distinct(small), distinct(large, offset: 100))
            for (result, f) in [(a - b, { (x: Float, y: Float) in x - y }), (b / a, { (x: Float, y: Float) in y / x })] {
                XCTAssertEqual(result.shape, large)
                let values = result.scalars
                for flat in values.indices {
                    let index = multiIndex(flat, large)
                    XCTAssertEqual(values[flat], f(broadcastElement(a, at: index), broadcastElement(b, at: index)), "\(small) with \(large) at \(flat)")
                }
            }
            // Both operands broadcast: a column against a row.
            let column = distinct([large.first ?? 1, 1]), row = distinct([1, large.last ?? 1], offset: 7)
            let sum = column + row
            for flat in sum.scalars.indices {
                let index = multiIndex(flat, sum.shape)
                XCTAssertEqual(sum.scalars[flat], broadcastElement(column, at: index) + broadcastElement(row, at: index))
            }
        }
    }

    func testPermutedReadsEachAxisFromItsSource() {
        let shapes = [[2, 3, 4], [1, 5, 2], [4, 1, 3, 2], [3, 20, 2], [2, 0, 3]]
        for shape in shapes {
            let x = distinct(shape)
            for permutation in permutations(of: Array(shape.indices)) {
                let y = x.permuted(permutation)
                XCTAssertEqual(y.shape, permutation.map { shape[$0] })
                let values = y.scalars
                for flat in values.indices {
                    let index = multiIndex(flat, y.shape)
                    var source = [Int](repeating: 0, count: shape.count)
                    for (axis, from) in permutation.enumerated() { source[from] = index[axis] }
                    let sourceFlat = source.indices.reduce(0) { $0 * shape[$1] + source[$1] }
                    XCTAssertEqual(values[flat], x.scalars[sourceFlat], "\(shape) by \(permutation) at \(flat)")
                }
            }
        }
    }

    func permutations(of axes: [Int]) -> [[Int]] {
        guard axes.count > 1 else { return [axes] }
        return axes.flatMap { first in permutations(of: axes.filter { $0 != first }).map { [first] + $0 } }
    }
}

/// Reductions over an axis of size 0 give their identities (0 for sums and products of
/// matrices, -inf for the maximum and log-sum-exp), never the bytes left in reused memory.
final class EmptyAxisTests: XCTestCase {
    /// Fills freed heap blocks of small sizes with NaN, so that an output never written reads NaN.
    func dirtyTheHeap() {
        for count in [1, 2, 3, 4, 6, 8, 12, 16] {
            for _ in 0..<8 { _ = Tensor.full([count], .nan) + 1 }
        }
    }

    func testReductionsOverAnEmptyAxisGiveTheirIdentity() {
        let cases: [(String, () -> Tensor, [Int], [Float])] = [
            ("sum of [0]", { Tensor.zeros([0]).sum() }, [], [0]),
            ("sum over the last axis of [3, 0]", { Tensor.zeros([3, 0]).sum(axis: 1) }, [3], [0, 0, 0]),
            ("sum over the first axis of [0, 3]", { Tensor.zeros([0, 3]).sum(axis: 0) }, [3], [0, 0, 0]),
            ("sum over the middle axis of [2, 0, 2]", { Tensor.zeros([2, 0, 2]).sum(axis: 1) }, [2, 2], [0, 0, 0, 0]),
            ("sum keeping dims of [3, 0]", { Tensor.zeros([3, 0]).sum(axis: 1, keepDims: true) }, [3, 1], [0, 0, 0]),
            ("max over the last axis of [3, 0]", { Tensor.zeros([3, 0]).max(axis: 1) }, [3], [-.infinity, -.infinity, -.infinity]),
            ("logSumExp over the last axis of [3, 0]", { Tensor.zeros([3, 0]).logSumExp(axis: 1) }, [3], [-.infinity, -.infinity, -.infinity]),
            ("logSumExp over the first axis of [0, 2]", { Tensor.zeros([0, 2]).logSumExp(axis: 0) }, [2], [-.infinity, -.infinity]),
            ("matmul of [3, 0] by [0, 2]", { matmul(Tensor.zeros([3, 0]), Tensor.zeros([0, 2])) }, [3, 2], [0, 0, 0, 0, 0, 0]),
            ("affine of [3, 0] by [0, 2] plus a bias", { affine(Tensor.zeros([3, 0]), Tensor.zeros([0, 2]), Tensor([1, 2])) }, [3, 2], [1, 2, 1, 2, 1, 2]),
        ]
        for (name, compute, shape, expected) in cases {
            for _ in 0..<3 {
                dirtyTheHeap()
                let result = compute()
                XCTAssertEqual(result.shape, shape, name)
                XCTAssertEqual(result.scalars, expected, name)
            }
        }
    }

    /// A sum over an empty axis is 0 and its gradient flows back as an empty tensor.
    func testTheGradientThroughAnEmptySumIsEmpty() throws {
        dirtyTheHeap()
        let (value, gradients) = try valueWithGradient(at: [Tensor.zeros([3, 0])]) { inputs in (inputs[0] * 2).sum(axis: 1).sum() }
        XCTAssertEqual(value.scalars, [0])
        XCTAssertEqual(gradients[0].shape, [3, 0])
    }
}

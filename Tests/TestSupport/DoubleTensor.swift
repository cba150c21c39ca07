import Foundation
import TensorCore

/// An independent, deliberately naive n-dimensional array of Doubles: the reference math
/// that the Float32 tensor operations and their gradients are checked against.
public struct DoubleTensor: Equatable {
    public var shape: [Int]
    public var values: [Double]

    public init(shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "reference tensor of shape \(shape) given \(values.count) values")
        self.shape = shape
        self.values = values
    }

    public init(_ tensor: Tensor) {
        self.init(shape: tensor.shape, values: tensor.scalars.map(Double.init))
    }

    public var count: Int { values.count }

    /// The multi-index of flat position `flat`.
    public func index(of flat: Int) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }

    /// The flat position of multi-index `index`.
    public func flat(_ index: [Int]) -> Int {
        Swift.zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
    }

    public subscript(_ index: [Int]) -> Double { values[flat(index)] }

    public func map(_ f: (Double) -> Double) -> DoubleTensor {
        DoubleTensor(shape: shape, values: values.map(f))
    }

    /// `self` broadcast to `target` (NumPy rules; the caller ensures they are compatible).
    public func broadcast(to target: [Int]) -> DoubleTensor {
        let offset = target.count - shape.count
        let result = DoubleTensor(shape: target, values: [Double](repeating: 0, count: target.reduce(1, *)))
        let values = (0..<result.count).map { flat -> Double in
            let outIndex = result.index(of: flat)
            let inIndex = shape.indices.map { shape[$0] == 1 ? 0 : outIndex[$0 + offset] }
            return self[inIndex]
        }
        return DoubleTensor(shape: target, values: values)
    }

    /// `f` on pairs of elements of `a` and `b` broadcast together.
    public static func zip(_ a: DoubleTensor, _ b: DoubleTensor, _ f: (Double, Double) -> Double) -> DoubleTensor {
        let rank = max(a.shape.count, b.shape.count)
        let pa = [Int](repeating: 1, count: rank - a.shape.count) + a.shape
        let pb = [Int](repeating: 1, count: rank - b.shape.count) + b.shape
        let target = Swift.zip(pa, pb).map { max($0, $1) }
        let x = a.broadcast(to: target), y = b.broadcast(to: target)
        return DoubleTensor(shape: target, values: Swift.zip(x.values, y.values).map(f))
    }

    /// Folds the elements over `axes` (normalized) with `combine`, keeping them as size 1 if asked.
    public func reduce(axes: [Int], keepDims: Bool, initial: Double, _ combine: (Double, Double) -> Double) -> DoubleTensor {
        let keptShape = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        var result = DoubleTensor(shape: keptShape, values: [Double](repeating: initial, count: keptShape.reduce(1, *)))
        for flat in 0..<count {
            let index = self.index(of: flat).enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
            let target = result.flat(index)
            result.values[target] = combine(result.values[target], values[flat])
        }
        if !keepDims { result.shape = shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element) }
        return result
    }

    /// Axis `i` of the result is axis `permutation[i]` of `self`.
    public func permuted(_ permutation: [Int]) -> DoubleTensor {
        let outShape = permutation.map { shape[$0] }
        var result = DoubleTensor(shape: outShape, values: values)
        for flat in 0..<count {
            let outIndex = result.index(of: flat)
            var inIndex = [Int](repeating: 0, count: shape.count)
            for (i, axis) in permutation.enumerated() { inIndex[axis] = outIndex[i] }
            result.values[flat] = self[inIndex]
        }
        return result
    }

    /// Matrix product over the last two axes with equal batch axes.
    public static func matmul(_ a: DoubleTensor, _ b: DoubleTensor) -> DoubleTensor {
        let m = a.shape[a.shape.count - 2], k = a.shape.last!, n = b.shape.last!
        let batch = Array(a.shape.dropLast(2))
        let batches = batch.reduce(1, *)
        var values = [Double](repeating: 0, count: batches * m * n)
        for t in 0..<batches {
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0.0
                    for p in 0..<k { total += a.values[t * m * k + i * k + p] * b.values[t * k * n + p * n + j] }
                    values[t * m * n + i * n + j] = total
                }
            }
        }
        return DoubleTensor(shape: batch + [m, n], values: values)
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> DoubleTensor {
        var outShape = shape
        outShape[axis] = range.count
        var result = DoubleTensor(shape: outShape, values: [Double](repeating: 0, count: outShape.reduce(1, *)))
        for flat in 0..<result.count {
            var index = result.index(of: flat)
            index[axis] += range.lowerBound
            result.values[flat] = self[index]
        }
        return result
    }

    /// `tensors` joined along `axis`.
    public static func concatenate(_ tensors: [DoubleTensor], axis: Int) -> DoubleTensor {
        var outShape = tensors[0].shape
        outShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        var result = DoubleTensor(shape: outShape, values: [Double](repeating: 0, count: outShape.reduce(1, *)))
        for flat in 0..<result.count {
            var index = result.index(of: flat)
            var part = 0
            while index[axis] >= tensors[part].shape[axis] {
                index[axis] -= tensors[part].shape[axis]
                part += 1
            }
            result.values[flat] = tensors[part][index]
        }
        return result
    }

    /// Slices along `axis` chosen by integer `indices` (NumPy `take`).
    public func take(_ indices: [Int], indicesShape: [Int], axis: Int) -> DoubleTensor {
        let outShape = Array(shape[..<axis]) + indicesShape + Array(shape[(axis + 1)...])
        var result = DoubleTensor(shape: outShape, values: [Double](repeating: 0, count: outShape.reduce(1, *)))
        let indexRank = indicesShape.count
        for flat in 0..<result.count {
            let outIndex = result.index(of: flat)
            let position = DoubleTensor(shape: indicesShape, values: [Double](repeating: 0, count: indices.count))
                .flat(Array(outIndex[axis..<(axis + indexRank)]))
            let inIndex = Array(outIndex[..<axis]) + [indices[position]] + Array(outIndex[(axis + indexRank)...])
            result.values[flat] = self[inIndex]
        }
        return result
    }
}

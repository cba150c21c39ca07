import CKernels

// Reductions over chosen axes (sum, mean, max, log-sum-exp) and the softmax family.

extension Tensor {
    /// Normalized, sorted, distinct axes, or nil (and a `TensorError`) when one is out of range.
    func reductionAxes(_ axes: [Int], _ operation: String) -> [Int]? {
        var normalized: [Int] = []
        normalized.reserveCapacity(axes.count)
        for axis in axes {
            guard let a = Shape.normalize(axis: axis, rank: rank) else {
                _ = Tensor.failure(operation, "axis \(axis) is out of range for shape \(Shape.describe(shape))", shape: [])
                return nil
            }
            if !normalized.contains(a) { normalized.append(a) }
        }
        return normalized.sorted()
    }

    func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        var reduced: [Int] = []
        reduced.reserveCapacity(rank)
        for (axis, size) in shape.enumerated() {
            if !axes.contains(axis) {
                reduced.append(size)
            } else if keepDims {
                reduced.append(1)
            }
        }
        return reduced
    }

    /// Folds every element into the output element it reduces to, with accumulator type Double.
    /// `axes` must be normalized; the result has the kept-dimensions shape.
    @inline(__always)
    func reduced(_ axes: [Int], initial: Double, _ combine: (Double, Float) -> Double) -> Tensor {
        let outShape = reducedShape(axes, keepDims: true)
        let outCount = Shape.count(outShape)
        var accumulators = [Double](repeating: initial, count: outCount)
        let outStrides = Shape.broadcastStrides(outShape, to: shape)
        let length = shape.last ?? 1
        let outStep = outStrides.last ?? 0
        accumulators.withUnsafeMutableBufferPointer { acc in
            let input = storage.pointer
            forEachRow(shape: shape, Shape.strides(shape), outStrides) { row, offset, outOffset in
                let x = input + offset
                if outStep == 0 {
                    var total = acc[outOffset]
                    for j in 0..<length { total = combine(total, x[j]) }
                    acc[outOffset] = total
                } else {
                    for j in 0..<length { acc[outOffset + j] = combine(acc[outOffset + j], x[j]) }
                }
            }
        }
        return Tensor(shape: outShape, scalars: accumulators.map(Float.init))
    }

    /// The sum over `axes` on the vectorized kernels when they are a run of leading axes or
    /// of trailing axes (a matrix's column or row sums); nil otherwise, and for no elements
    /// (the kernels would write none of the zeros a sum over an empty axis gives).
    func contiguousSum(_ axes: [Int]) -> Tensor? {
        guard count > 0, !axes.isEmpty, axes == Array(axes.first!...axes.last!) else { return nil }
        let keptShape = reducedShape(axes, keepDims: true)
        if axes.last == rank - 1 {
            let columns = Shape.count(Array(shape[axes.first!...]))
            let rows = count / Swift.max(columns, 1)
            let parts = rows >= 64 && count >= elementsWorthSplitting ? ComputeThreads.count : 1
            return Tensor.build(keptShape) { out in
                let pointers = UncheckedSendable((storage.pointer, out))
                parallelFor(parts) { part in
                    let start = rows * part / parts, end = rows * (part + 1) / parts
                    latent_row_sums(pointers.value.0 + start * columns, Int64(end - start), Int64(columns), pointers.value.1 + start)
                }
            }
        }
        if axes.first == 0 {
            let rows = Shape.count(Array(shape[...axes.last!]))
            let columns = count / Swift.max(rows, 1)
            var accumulator = [Double](repeating: 0, count: columns)
            accumulator.withUnsafeMutableBufferPointer { latent_column_sums(storage.pointer, Int64(rows), Int64(columns), $0.baseAddress) }
            return Tensor(shape: keptShape, scalars: accumulator.map(Float.init))
        }
        return nil
    }

    /// Sum over `axes` (all axes when empty is not intended: use `sum()`).
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        guard let axes = reductionAxes(axes, "sum") else { return .failure("sum", "bad axes", shape: []) }
        if axes.isEmpty { return self }
        let kept = contiguousSum(axes) ?? reduced(axes, initial: 0) { $0 + Double($1) }
        let inputShape = shape
        return kept.reshaped(to: reducedShape(axes, keepDims: keepDims)).recorded(inputs: [self]) { g, _ in
            [g.reshaped(to: kept.shape).expanded(to: inputShape)]
        }
    }

    /// Sum over one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Sum of all elements, as a scalar.
    public func sum() -> Tensor { sum(axes: Array(0..<rank)) }

    /// Mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        guard let axes = reductionAxes(axes, "mean") else { return .failure("mean", "bad axes", shape: []) }
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) / Float(n)
    }

    /// Mean over one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Mean of all elements, as a scalar.
    public func mean() -> Tensor { mean(axes: Array(0..<rank)) }

    /// Maximum over `axes`; NaN if any reduced element is NaN. The gradient is shared equally
    /// among the elements that attain the maximum.
    public func max(axes: [Int], keepDims: Bool = false) -> Tensor {
        guard let axes = reductionAxes(axes, "max") else { return .failure("max", "bad axes", shape: []) }
        if axes.isEmpty { return self }
        let kept = reduced(axes, initial: -.infinity) { m, x in m.isNaN || x.isNaN ? .nan : Swift.max(m, Double(x)) }
        let input = self.detached
        return kept.reshaped(to: reducedShape(axes, keepDims: keepDims)).recorded(inputs: [self]) { g, _ in
            let attains = input .== kept
            let ties = attains.sum(axes: axes, keepDims: true)
            return [g.reshaped(to: kept.shape) * attains / ties]
        }
    }

    /// Maximum over one axis.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { self.max(axes: [axis], keepDims: keepDims) }

    /// Maximum of all elements, as a scalar.
    public func max() -> Tensor { self.max(axes: Array(0..<rank)) }

    /// `log sum exp(x)` over `axes`, computed as `m + log sum exp(x - m)` with `m` the maximum,
    /// so that it neither overflows nor underflows; `-inf` when every term is `-inf`.
    public func logSumExp(axes: [Int], keepDims: Bool = false) -> Tensor {
        guard let axes = reductionAxes(axes, "logSumExp") else { return .failure("logSumExp", "bad axes", shape: []) }
        if axes.isEmpty { return self }
        let input = detached
        let shift = input.max(axes: axes, keepDims: true).mapped { $0.isFinite ? $0 : 0 }
        let kept = log(exp(input - shift).sum(axes: axes, keepDims: true)) + shift
        return kept.reshaped(to: reducedShape(axes, keepDims: keepDims)).recorded(inputs: [self]) { g, _ in
            [g.reshaped(to: kept.shape) * exp(input - kept)]
        }
    }

    /// `log sum exp(x)` over one axis.
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { logSumExp(axes: [axis], keepDims: keepDims) }
}

/// `x - logsumexp(x)` along `axis`: log-probabilities from unnormalized log-weights.
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    x - x.logSumExp(axis: axis, keepDims: true)
}

/// `exp(x) / sum exp(x)` along `axis`.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    exp(logSoftmax(x, axis: axis))
}

extension Tensor {
    /// Running sums along `axis`: element `i` is `x_0 + ... + x_i`, or `x_i + ... + x_{n-1}`
    /// when `reverse` is true.
    public func cumulativeSum(axis: Int, reverse: Bool = false) -> Tensor {
        guard let a = Shape.normalize(axis: axis, rank: rank) else {
            return .failure("cumulativeSum", "axis \(axis) is out of range for shape \(Shape.describe(shape))", shape: shape)
        }
        let size = shape[a]
        let outer = Shape.count(Array(shape[..<a]))
        let inner = Shape.count(Array(shape[(a + 1)...]))
        let result = Tensor.build(shape) { out in
            let input = storage.pointer
            for o in 0..<outer {
                for i in 0..<inner {
                    var total: Float = 0
                    for step in 0..<size {
                        let position = reverse ? size - 1 - step : step
                        let offset = (o * size + position) * inner + i
                        total += input[offset]
                        out[offset] = total
                    }
                }
            }
        }
        return result.recorded(inputs: [self]) { g, _ in [g.cumulativeSum(axis: a, reverse: !reverse)] }
    }
}

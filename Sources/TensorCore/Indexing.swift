// Indexing by integer-valued tensors: gather along an axis (`locs[z]`) and one-hot codes.

extension Tensor {
    /// Rows of `self` picked by the integer-valued tensor `indices`: `x[z]` has shape
    /// `z.shape + x.shape.dropFirst()`, as in NumPy. Gradients are added back into the rows.
    public subscript(indices: Tensor) -> Tensor {
        gathering(indices, axis: 0)
    }

    /// Slices of `self` along `axis` picked by the integer-valued tensor `indices`; the result
    /// has `indices.shape` in place of that axis. An index that is not an integer in
    /// `0..<shape[axis]` is a `TensorError` naming its position.
    public func gathering(_ indices: Tensor, axis: Int = 0) -> Tensor {
        guard let a = Shape.normalize(axis: axis, rank: rank) else {
            return .failure("gather", "axis \(axis) is out of range for shape \(Shape.describe(shape))", shape: indices.shape + shape)
        }
        let outShape = Array(shape[..<a]) + indices.shape + Array(shape[(a + 1)...])
        let size = shape[a]
        let picks = indices.uncountedScalars
        if let bad = indices.firstIndex(outside: 0, Float(size).nextDown, integral: true) {
            return .failure("gather", "index \(picks[bad]) at position \(bad) of indices \(Shape.describe(indices.shape)) is not an integer in 0..<\(size) (axis \(a) of \(Shape.describe(shape)))", shape: outShape)
        }
        let rows = picks.map { Int($0) }
        let outer = Shape.count(Array(shape[..<a]))
        let inner = Shape.count(Array(shape[(a + 1)...]))
        let result = Tensor.build(outShape) { out in
            let input = storage.pointer
            for o in 0..<outer {
                for (i, row) in rows.enumerated() {
                    (out + (o * rows.count + i) * inner).update(from: input + (o * size + row) * inner, count: inner)
                }
            }
        }
        let inputShape = shape
        return result.recorded(inputs: [self]) { g, _ in
            [Tensor.build(inputShape) { grad in
                grad.initialize(repeating: 0, count: Shape.count(inputShape))
                let source = g.storage.pointer
                for o in 0..<outer {
                    for (i, row) in rows.enumerated() {
                        let from = source + (o * rows.count + i) * inner
                        let to = grad + (o * size + row) * inner
                        for j in 0..<inner { to[j] += from[j] }
                    }
                }
            }]
        }.tracked(alsoDependingOn: [indices])
    }

    /// For each batch position, the element of the last axis that the integer-valued `indices`
    /// names: `y[i] = x[i, indices[i]]`, with `indices` broadcast against `x`'s leading axes
    /// (NumPy's `take_along_axis` on the last axis, without its trailing axis of 1).
    /// Gradients are added back into the picked elements. An index that is not an integer in
    /// `0..<shape.last`, or a shape that does not broadcast, is a `TensorError`.
    package func taking(alongLastAxis indices: Tensor) -> Tensor {
        let batch = Array(shape.dropLast())
        let size = shape.last ?? 1
        guard rank >= 1, let outShape = Shape.broadcast(indices.shape, batch) else {
            return .failure("take", "indices \(Shape.describe(indices.shape)) do not broadcast with the leading axes of \(Shape.describe(shape))", shape: Shape.broadcastFallback(indices.shape, batch))
        }
        if let bad = indices.firstIndex(outside: 0, Float(size).nextDown, integral: true) {
            return .failure("take", "index \(indices.uncountedScalars[bad]) at position \(bad) of indices \(Shape.describe(indices.shape)) is not an integer in 0..<\(size) (the last axis of \(Shape.describe(shape)))", shape: outShape)
        }
        let runs = coalesced(outShape, Shape.broadcastStrides(indices.shape, to: outShape), Shape.broadcastStrides(batch, to: outShape))
        let length = runs.shape.last ?? 1, stepIndices = runs.a.last ?? 0, stepBatch = runs.b.last ?? 0
        // The position in `self` of each output element, worked out once for both passes.
        var sources = [Int](repeating: 0, count: Shape.count(outShape))
        sources.withUnsafeMutableBufferPointer { sources in
            let pick = indices.storage.pointer
            forEachRow(shape: runs.shape, runs.a, runs.b) { row, offsetIndices, offsetBatch in
                for j in 0..<length {
                    sources[row * length + j] = (offsetBatch + j * stepBatch) * size + Int(pick[offsetIndices + j * stepIndices])
                }
            }
        }
        let result = Tensor.build(outShape) { out in
            let x = storage.pointer
            for (position, source) in sources.enumerated() { out[position] = x[source] }
        }
        let inputShape = shape
        return result.recorded(inputs: [self]) { g, _ in
            var sums = [Double](repeating: 0, count: Shape.count(inputShape))
            sums.withUnsafeMutableBufferPointer { sums in
                let gradient = g.storage.pointer
                for (position, source) in sources.enumerated() { sums[source] += Double(gradient[position]) }
            }
            return [Tensor(shape: inputShape, scalars: sums.map(Float.init))]
        }.tracked(alsoDependingOn: [indices])
    }

    /// One-hot codes of the integer-valued `indices`: shape `indices.shape + [classes]`, with 1
    /// at each index and 0 elsewhere. An index outside `0..<classes` is a `TensorError`.
    public static func oneHot(_ indices: Tensor, classes: Int) -> Tensor {
        let picks = indices.uncountedScalars
        let outShape = indices.shape + [classes]
        if let bad = indices.firstIndex(outside: 0, Float(classes).nextDown, integral: true) {
            return failure("oneHot", "index \(picks[bad]) at position \(bad) of \(Shape.describe(indices.shape)) is not an integer in 0..<\(classes)", shape: outShape)
        }
        return build(outShape) { out in
            out.initialize(repeating: 0, count: picks.count * classes)
            for (i, pick) in picks.enumerated() { out[i * classes + Int(pick)] = 1 }
        }.tracked(alsoDependingOn: [indices])
    }
}

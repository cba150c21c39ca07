import CKernels

// Operations that move elements without changing them: reshape, permute, expand, slice,
// concatenate and stack. Each gradient moves the output gradient back.

extension Tensor {
    /// The same elements with another shape of equal count; one dimension may be -1 (inferred).
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        let inferred = newShape.firstIndex(of: -1)
        let bad = newShape.contains { $0 < -1 } || inferred.map { newShape[($0 + 1)...].contains(-1) } ?? false
        if !bad, let axis = inferred {
            var known = newShape
            known[axis] = 1
            if let product = Shape.checkedCount(known, limit: .max), product > 0, count % product == 0 {
                target[axis] = count / product
            }
        }
        guard !bad, !target.contains(-1), Shape.checkedCount(target, limit: .max) == count else {
            return .failure("reshape", "cannot reshape \(Shape.describe(shape)) (\(count) elements) to \(Shape.describe(newShape))", shape: target.map { $0 < 0 ? 1 : $0 })
        }
        if target == shape { return self }
        let inputShape = shape
        return viewed(as: target).recorded(inputs: [self]) { g, _ in [g.reshaped(to: inputShape)] }
    }

    /// Dimensions reordered: axis `i` of the result is axis `permutation[i]` of `self`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        let normalized = permutation.compactMap { Shape.normalize(axis: $0, rank: rank) }
        guard normalized.count == rank, Set(normalized).count == rank else {
            return .failure("permute", "\(permutation) is not a permutation of the \(rank) axes of \(Shape.describe(shape))", shape: shape)
        }
        if normalized == Array(0..<rank) { return self }
        let strides = Shape.strides(shape)
        let result = stridedCopy(shape: normalized.map { shape[$0] }, strides: normalized.map { strides[$0] })
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in normalized.enumerated() { inverse[axis] = i }
        return result.recorded(inputs: [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// The last two dimensions swapped (the matrix transpose, batched).
    public func transposed() -> Tensor {
        guard rank >= 2 else { return self }
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return permuted(permutation)
    }

    /// `self` broadcast to `target` by NumPy's rules, materialized.
    public func expanded(to target: [Int]) -> Tensor {
        guard Shape.broadcast(shape, target) == target else {
            return .failure("expand", "cannot expand \(Shape.describe(shape)) to \(Shape.describe(target))", shape: target)
        }
        if target == shape { return self }
        let result = stridedCopy(shape: target, strides: Shape.broadcastStrides(shape, to: target))
        let inputShape = shape
        return result.recorded(inputs: [self]) { g, _ in [g.summed(toShape: inputShape)] }
    }

    /// The elements of `self` read with `strides` (0 on a broadcast axis) over `target`,
    /// written out in row-major order.
    func stridedCopy(shape target: [Int], strides: [Int]) -> Tensor {
        let runs = coalesced(target, strides, strides)
        return Tensor.build(target) { out in
            runs.shape.withUnsafeBufferPointer { shape in
                runs.a.withUnsafeBufferPointer { strides in
                    latent_strided_copy(storage.pointer, Int64(shape.count), shape.baseAddress, strides.baseAddress, out)
                }
            }
        }
    }

    /// A new axis of size 1 inserted at `axis` (which may equal the rank, or be negative).
    public func unsqueezed(axis: Int) -> Tensor {
        guard let position = Shape.normalize(axis: axis, rank: rank + 1) else {
            return .failure("unsqueeze", "axis \(axis) is out of range for shape \(Shape.describe(shape))", shape: shape)
        }
        var newShape = shape
        newShape.insert(1, at: position)
        return reshaped(to: newShape)
    }

    /// Elements `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        guard let a = Shape.normalize(axis: axis, rank: rank), range.lowerBound >= 0, range.upperBound <= shape[a] else {
            var fallback = shape
            if let a = Shape.normalize(axis: axis, rank: rank) { fallback[a] = Swift.max(range.count, 0) }
            return .failure("slice", "range \(range) is out of bounds for axis \(axis) of \(Shape.describe(shape))", shape: fallback)
        }
        var outShape = shape
        outShape[a] = range.count
        let outer = Shape.count(Array(shape[..<a]))
        let inner = Shape.count(Array(shape[(a + 1)...]))
        let result = Tensor.build(outShape) { out in
            let input = storage.pointer
            for o in 0..<outer {
                (out + o * range.count * inner).update(from: input + (o * shape[a] + range.lowerBound) * inner, count: range.count * inner)
            }
        }
        let inputShape = shape
        return result.recorded(inputs: [self]) { g, _ in [g.padded(axis: a, to: inputShape, at: range.lowerBound)] }
    }

    /// Zeros of `target` shape with `self` placed at `offset` along `axis`: the gradient of a slice.
    func padded(axis: Int, to target: [Int], at offset: Int) -> Tensor {
        let outer = Shape.count(Array(target[..<axis]))
        let inner = Shape.count(Array(target[(axis + 1)...]))
        let size = shape[axis]
        return Tensor.build(target) { out in
            out.initialize(repeating: 0, count: Shape.count(target))
            let input = storage.pointer
            for o in 0..<outer {
                (out + (o * target[axis] + offset) * inner).update(from: input + o * size * inner, count: size * inner)
            }
        }
    }

    /// `tensors` joined along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        guard let first = tensors.first else { return failure("concatenate", "no tensors to concatenate", shape: [0]) }
        guard let a = Shape.normalize(axis: axis, rank: first.rank) else {
            return failure("concatenate", "axis \(axis) is out of range for shape \(Shape.describe(first.shape))", shape: first.shape)
        }
        var outShape = first.shape
        outShape[a] = 0
        for tensor in tensors {
            var expected = first.shape
            expected[a] = tensor.rank == first.rank ? tensor.shape[a] : 0
            guard tensor.shape == expected else {
                outShape[a] = tensors.reduce(0) { $0 + ($1.rank > a ? $1.shape[a] : 0) }
                return failure("concatenate", "shapes \(tensors.map { Shape.describe($0.shape) }.joined(separator: ", ")) differ outside axis \(a)", shape: outShape)
            }
            outShape[a] += tensor.shape[a]
        }
        let outer = Shape.count(Array(first.shape[..<a]))
        let inner = Shape.count(Array(first.shape[(a + 1)...]))
        let result = build(outShape) { out in
            var start = 0
            for tensor in tensors {
                let size = tensor.shape[a]
                for o in 0..<outer {
                    (out + (o * outShape[a] + start) * inner).update(from: tensor.storage.pointer + o * size * inner, count: size * inner)
                }
                start += size
            }
        }
        let sizes = tensors.map { $0.shape[a] }
        return result.recorded(inputs: tensors) { g, needs in
            var start = 0
            return sizes.enumerated().map { i, size in
                defer { start += size }
                return needs[i] ? g.slice(axis: a, start..<(start + size)) : nil
            }
        }
    }

    /// `tensors`, all of one shape, stacked along a new axis at `axis`.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        concatenate(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }
}

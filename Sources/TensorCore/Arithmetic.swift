import CKernels
import Foundation

// Elementwise binary operations with NumPy broadcasting, and their gradients.

extension Tensor {
    /// `f` applied to each pair of elements of `a` and `b` broadcast together.
    /// A shape pair that does not broadcast is a `TensorError` naming `operation` and both shapes.
    @inline(__always)
    package static func broadcasting(_ operation: String, _ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape { return pairwise(a, b, f) }
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            return failure(operation, "shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape)) do not broadcast", shape: Shape.broadcastFallback(a.shape, b.shape))
        }
        let n = Shape.count(shape)
        if b.count == 1 {
            let vb = b.storage.pointer[0]
            return build(shape) { out in
                let pa = a.storage.pointer
                if a.count == n {
                    for i in 0..<n { out[i] = f(pa[i], vb) }
                } else {
                    for i in 0..<n { out[i] = f(pa[0], vb) }
                }
            }
        }
        if a.count == 1 {
            let va = a.storage.pointer[0]
            return build(shape) { out in
                let pb = b.storage.pointer
                if b.count == n {
                    for i in 0..<n { out[i] = f(va, pb[i]) }
                } else {
                    for i in 0..<n { out[i] = f(va, pb[0]) }
                }
            }
        }
        let stridesA = Shape.broadcastStrides(a.shape, to: shape), stridesB = Shape.broadcastStrides(b.shape, to: shape)
        let runs = coalesced(shape, stridesA, stridesB)
        let length = runs.shape.last ?? 1
        if length < 16 {
            // Rows this short cost more to walk than to lay out in full first.
            let fullA = a.shape == shape ? a : a.stridedCopy(shape: shape, strides: stridesA)
            let fullB = b.shape == shape ? b : b.stridedCopy(shape: shape, strides: stridesB)
            return pairwise(fullA, fullB, f)
        }
        let stepA = runs.a.last ?? 0, stepB = runs.b.last ?? 0
        return build(shape) { out in
            let pa = a.storage.pointer, pb = b.storage.pointer
            forEachRow(shape: runs.shape, runs.a, runs.b) { row, offsetA, offsetB in
                let o = out + row * length
                switch (stepA, stepB) {
                case (1, 1): for j in 0..<length { o[j] = f(pa[offsetA + j], pb[offsetB + j]) }
                case (1, 0): let vb = pb[offsetB]; for j in 0..<length { o[j] = f(pa[offsetA + j], vb) }
                case (0, 1): let va = pa[offsetA]; for j in 0..<length { o[j] = f(va, pb[offsetB + j]) }
                default: for j in 0..<length { o[j] = f(pa[offsetA + j * stepA], pb[offsetB + j * stepB]) }
                }
            }
        }
    }

    /// `f` applied to each pair of elements of `a` and `b`, which have one shape.
    @inline(__always)
    private static func pairwise(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        build(a.shape) { out in
            let pa = a.storage.pointer, pb = b.storage.pointer
            for i in 0..<a.count { out[i] = f(pa[i], pb[i]) }
        }
    }

    /// `a op b` on the vectorized kernel, split across threads, when both have one shape or `b`
    /// repeats along `a`'s leading axes (a bias row); nil for other shapes (`broadcasting` then).
    static func sameShape(_ op: Int32, _ a: Tensor, _ b: Tensor) -> Tensor? {
        if a.shape == b.shape {
            return a.applying({ latent_vbinary(op, $0, $1, $2, $3) }, with: b)
        }
        guard b.rank >= 1, b.rank < a.rank, Array(a.shape.suffix(b.rank)) == b.shape, b.count >= 16 else { return nil }
        let rows = a.count / b.count
        return build(a.shape) { out in
            let pointers = UncheckedSendable((a.storage.pointer, b.storage.pointer, out))
            func apply(_ rows: Range<Int>) {
                for row in rows {
                    let offset = row * b.count
                    latent_vbinary(op, pointers.value.0 + offset, pointers.value.1, pointers.value.2 + offset, Int64(b.count))
                }
            }
            guard a.count >= elementsWorthSplitting else { return apply(0..<rows) }
            let parts = ComputeThreads.count
            parallelFor(parts) { part in apply((rows * part / parts)..<(rows * (part + 1) / parts)) }
        }
    }

    /// Sums `self` over the axes that broadcasting expanded, giving a tensor of `target` shape:
    /// the gradient of a broadcast input.
    package func summed(toShape target: [Int]) -> Tensor {
        guard shape != target else { return self }
        let extra = rank - target.count
        var axes = Array(0..<Swift.max(extra, 0))
        for (i, size) in target.enumerated() where size == 1 && shape[i + extra] != 1 {
            axes.append(i + extra)
        }
        return sum(axes: axes).reshaped(to: target)
    }

    /// Elementwise `a + b`.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        (sameShape(0, a, b) ?? broadcasting("add", a, b, +)).recorded(inputs: [a, b]) { g, needs in
            [needs[0] ? g.summed(toShape: a.shape) : nil, needs[1] ? g.summed(toShape: b.shape) : nil]
        }
    }

    /// Elementwise `a - b`.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        (sameShape(1, a, b) ?? broadcasting("subtract", a, b, -)).recorded(inputs: [a, b]) { g, needs in
            [needs[0] ? g.summed(toShape: a.shape) : nil, needs[1] ? (-g).summed(toShape: b.shape) : nil]
        }
    }

    /// Elementwise `a * b`.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        (sameShape(2, a, b) ?? broadcasting("multiply", a, b, *)).recorded(inputs: [a, b]) { g, needs in
            [needs[0] ? (g * b).summed(toShape: a.shape) : nil, needs[1] ? (g * a).summed(toShape: b.shape) : nil]
        }
    }

    /// Elementwise `a / b`.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let y = sameShape(3, a, b) ?? broadcasting("divide", a, b, /)
        return y.recorded(inputs: [a, b]) { g, needs in
            [needs[0] ? (g / b).summed(toShape: a.shape) : nil, needs[1] ? (-g * y / b).summed(toShape: b.shape) : nil]
        }
    }

    /// Elementwise `-x`.
    public static prefix func - (x: Tensor) -> Tensor {
        x.mapped { -$0 }.recorded(inputs: [x]) { g, _ in [-g] }
    }

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
}

/// Elementwise `base ^ exponent` with broadcasting; the gradient with respect to the
/// exponent is `y log(base)`, taken as 0 where the base is 0.
public func pow(_ base: Tensor, _ exponent: Tensor) -> Tensor {
    let y = Tensor.broadcasting("pow", base, exponent) { Float(Foundation.pow(Double($0), Double($1))) }
    return y.recorded(inputs: [base, exponent]) { g, needs in
        [
            needs[0] ? (g * exponent * pow(base, exponent - 1)).summed(toShape: base.shape) : nil,
            needs[1] ? (g * y * Tensor.broadcasting("pow", base, base) { x, _ in x > 0 ? Foundation.log(x) : 0 }).summed(toShape: exponent.shape) : nil,
        ]
    }
}

/// Elementwise `base ^ exponent` for a constant exponent.
public func pow(_ base: Tensor, _ exponent: Float) -> Tensor {
    let y = base.mapped { Foundation.pow($0, exponent) }
    return y.recorded(inputs: [base]) { g, _ in [g * exponent * pow(base, exponent - 1)] }
}

/// Elementwise maximum of `a` and `b`; the gradient goes to `a` where `a >= b`.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    select(a .>= b, a, b)
}

/// Elementwise minimum of `a` and `b`; the gradient goes to `a` where `a <= b`.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    select(a .<= b, a, b)
}

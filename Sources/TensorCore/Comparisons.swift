// Comparisons to masks (1 where true, 0 where false), selection and clamping.

extension Tensor {
    /// Mask of `a < b`, broadcast; not differentiable.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { broadcasting("<", a, b) { $0 < $1 ? 1 : 0 }.tracked(alsoDependingOn: [a, b]) }
    /// Mask of `a <= b`, broadcast; not differentiable.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { broadcasting("<=", a, b) { $0 <= $1 ? 1 : 0 }.tracked(alsoDependingOn: [a, b]) }
    /// Mask of `a > b`, broadcast; not differentiable.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { broadcasting(">", a, b) { $0 > $1 ? 1 : 0 }.tracked(alsoDependingOn: [a, b]) }
    /// Mask of `a >= b`, broadcast; not differentiable.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { broadcasting(">=", a, b) { $0 >= $1 ? 1 : 0 }.tracked(alsoDependingOn: [a, b]) }
    /// Mask of `a == b`, broadcast; not differentiable.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { broadcasting("==", a, b) { $0 == $1 ? 1 : 0 }.tracked(alsoDependingOn: [a, b]) }
    /// Mask of `a != b`, broadcast; not differentiable.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { broadcasting("!=", a, b) { $0 != $1 ? 1 : 0 }.tracked(alsoDependingOn: [a, b]) }
}

/// Elementwise `mask ? a : b` (mask nonzero means true), all three broadcast together.
/// The gradient flows to `a` where the mask is true and to `b` elsewhere.
public func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    guard let shape = Shape.broadcast(mask.shape, a.shape).flatMap({ Shape.broadcast($0, b.shape) }) else {
        return Tensor.failure("select", "mask \(Shape.describe(mask.shape)), values \(Shape.describe(a.shape)) and \(Shape.describe(b.shape)) do not broadcast", shape: Shape.broadcastFallback(Shape.broadcastFallback(mask.shape, a.shape), b.shape))
    }
    let truth = mask.detached.expanded(to: shape)
    let valuesA = a.detached.expanded(to: shape), valuesB = b.detached.expanded(to: shape)
    let result = Tensor.build(shape) { out in
        let m = truth.storage.pointer, x = valuesA.storage.pointer, y = valuesB.storage.pointer
        for i in 0..<truth.count { out[i] = m[i] != 0 ? x[i] : y[i] }
    }
    return result.recorded(inputs: [a, b]) { g, needs in
        [
            needs[0] ? Tensor.broadcasting("select", truth, g) { $0 != 0 ? $1 : 0 }.summed(toShape: a.shape) : nil,
            needs[1] ? Tensor.broadcasting("select", truth, g) { $0 != 0 ? 0 : $1 }.summed(toShape: b.shape) : nil,
        ]
    }.tracked(alsoDependingOn: [mask])
}

/// Elementwise `x` limited to `[lower, upper]`; the gradient passes where `lower <= x <= upper`.
public func clamp(_ x: Tensor, min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
    let y = x.mapped { Swift.min(Swift.max($0, lower), upper) }
    return y.recorded(inputs: [x]) { g, _ in [g * x.mapped { $0 >= lower && $0 <= upper ? 1 : 0 }] }
}

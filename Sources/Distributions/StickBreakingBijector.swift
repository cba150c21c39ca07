import Foundation
import TensorCore

/// Stick breaking from `R^(K-1)` onto the simplex of `K` entries (last axis).
///
/// `z_i = sigmoid(x_i - log(K - 1 - i))` is the fraction of the remaining stick taken by entry
/// `i`: `y_i = z_i prod_{j<i} (1 - z_j)`, and `y_{K-1}` is what remains. The offset maps
/// `x = 0` to the uniform point. `log |det J| = sum_i [log z_i + log(1 - z_i) + log r_i]`
/// where `r_i = prod_{j<i} (1 - z_j)`.
public struct StickBreakingBijector: Bijector {
    public init() {}
    public var domainEventRank: Int { 1 }

    public func forwardShape(_ shape: [Int]) -> [Int] { Array(shape.dropLast()) + [(shape.last ?? 0) + 1] }
    public func codomain(of domain: Constraint) -> Constraint { .simplex }

    func offsets(_ count: Int) -> Tensor {
        Tensor((0..<count).map { Float(Foundation.log(Double(count - $0))) })
    }

    public func forward(_ x: Tensor) -> Tensor {
        let shifted = x - offsets(x.shape.last ?? 0)
        let logRemaining = logSigmoid(-shifted).cumulativeSum(axis: -1)
        let logTaken = logSigmoid(shifted) + logRemaining - logSigmoid(-shifted)
        let last = logRemaining.slice(axis: -1, (shifted.shape.last! - 1)..<shifted.shape.last!)
        // An entry whose share underflows is held at the smallest normal float: a density on the
        // simplex such as Dirichlet(0.3) is infinite at 0.
        return clamp(exp(Tensor.concatenate([logTaken, last], axis: -1)), min: .leastNormalMagnitude)
    }

    public func inverse(_ y: Tensor) -> Tensor {
        let k = (y.shape.last ?? 1) - 1
        let head = y.slice(axis: -1, 0..<k)
        let remaining = 1 - head.cumulativeSum(axis: -1) + head
        return log(head) - log(remaining - head) + offsets(k)
    }

    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor {
        let shifted = x - offsets(x.shape.last ?? 0)
        let logRemainingAfter = logSigmoid(-shifted).cumulativeSum(axis: -1)
        let logRemainingBefore = logRemainingAfter - logSigmoid(-shifted)
        return (logSigmoid(shifted) + logSigmoid(-shifted) + logRemainingBefore).sum(axis: -1)
    }
}

/// From unconstrained square matrices (last two axes) onto lower-triangular matrices with a
/// positive diagonal: the strict lower triangle is kept, the diagonal exponentiated, the
/// upper triangle dropped. `log |det J| = sum of the diagonal of x` (over the kept entries).
public struct LowerCholeskyBijector: Bijector {
    public init() {}
    public var domainEventRank: Int { 2 }
    public func codomain(of domain: Constraint) -> Constraint { .lowerCholesky }

    func masks(_ d: Int) -> (strictLower: Tensor, diagonal: Tensor) {
        let strict = (0..<(d * d)).map { Float($0 % d < $0 / d ? 1 : 0) }
        let diagonal = (0..<(d * d)).map { Float($0 % d == $0 / d ? 1 : 0) }
        return (Tensor(shape: [d, d], scalars: strict), Tensor(shape: [d, d], scalars: diagonal))
    }

    public func forward(_ x: Tensor) -> Tensor {
        let (strict, diagonal) = masks(x.shape.last ?? 0)
        return x * strict + exp(x) * diagonal
    }

    public func inverse(_ y: Tensor) -> Tensor {
        let (strict, diagonal) = masks(y.shape.last ?? 0)
        return y * strict + log(select(diagonal, y, Tensor(1))) * diagonal
    }

    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor {
        (x * masks(x.shape.last ?? 0).diagonal).sum(axes: [-2, -1])
    }
}

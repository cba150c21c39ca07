import TensorCore

/// A set of values: the support of a distribution or the domain of a parameter.
public enum Constraint: CustomStringConvertible, @unchecked Sendable {
    /// All real numbers.
    case real
    /// `x > 0`.
    case positive
    /// `x > lower` (bounds broadcast against the value).
    case greaterThan(Tensor)
    /// `x < upper` (bounds broadcast against the value).
    case lessThan(Tensor)
    /// `lower <= x <= upper` (bounds broadcast against the value).
    case interval(Tensor, Tensor)
    /// `0 <= x <= 1`.
    case unitInterval
    /// Vectors (last axis) of nonnegative entries summing to 1.
    case simplex
    /// Square matrices (last two axes), lower triangular with a positive diagonal.
    case lowerCholesky
    /// `x` in {0, 1}.
    case boolean
    /// Integers `lower...upper`.
    case integerInterval(Int, Int)
    /// Integers `x >= 0`.
    case nonnegativeInteger

    public var description: String {
        switch self {
        case .real: return "real"
        case .positive: return "positive"
        case let .greaterThan(lower): return "greater than \(lower.uncountedScalars.count == 1 ? "\(lower.uncountedScalars[0])" : "its lower bound")"
        case let .lessThan(upper): return "less than \(upper.uncountedScalars.count == 1 ? "\(upper.uncountedScalars[0])" : "its upper bound")"
        case let .interval(lower, upper): return lower.count == 1 && upper.count == 1 ? "interval [\(lower.uncountedScalars[0]), \(upper.uncountedScalars[0])]" : "interval [low, high]"
        case .unitInterval: return "unit interval [0, 1]"
        case .simplex: return "simplex"
        case .lowerCholesky: return "lower Cholesky"
        case .boolean: return "boolean {0, 1}"
        case let .integerInterval(lower, upper): return "integers \(lower)...\(upper)"
        case .nonnegativeInteger: return "nonnegative integers"
        }
    }

    /// Number of trailing axes one constrained element spans (1 for simplex, 2 for matrices).
    public var eventRank: Int {
        switch self {
        case .simplex: return 1
        case .lowerCholesky: return 2
        default: return 0
        }
    }

    /// True when the support is a finite set of values.
    public var isDiscrete: Bool {
        switch self {
        case .boolean, .integerInterval, .nonnegativeInteger: return true
        default: return false
        }
    }

    /// The range each element lies in: exact for the elementwise constraints with scalar
    /// bounds; for the others, the elementwise part of their test (not NaN).
    var scalarRange: ScalarRange {
        switch self {
        case .real, .simplex, .lowerCholesky, .greaterThan, .lessThan, .interval: return .notNaN
        case .positive: return .positive
        case .unitInterval: return .unitInterval
        case .boolean: return ScalarRange(lower: 0, upper: 1, integral: true, description: description)
        case let .integerInterval(lower, upper): return ScalarRange(lower: Float(lower), upper: Float(upper), integral: true, description: description)
        case .nonnegativeInteger: return ScalarRange(lower: 0, upper: .greatestFiniteMagnitude, integral: true, description: description)
        }
    }

    /// The flat index of the first element of `value` that violates the constraint, if any.
    /// Simplex rows must be nonnegative and sum to 1 within 1e-5 per entry; Cholesky factors
    /// must be lower triangular with a positive diagonal.
    public func firstViolation(in value: Tensor) -> Int? {
        switch self {
        case let .greaterThan(lower):
            return (value .> lower).expanded(to: value.shape).uncountedScalars.firstIndex { $0 == 0 }
        case let .lessThan(upper):
            return (value .< upper).expanded(to: value.shape).uncountedScalars.firstIndex { $0 == 0 }
        case let .interval(lower, upper):
            return ((value .>= lower) * (value .<= upper)).expanded(to: value.shape).uncountedScalars.firstIndex { $0 == 0 }
        case .simplex:
            let values = value.uncountedScalars
            let k = Swift.max(value.shape.last ?? 1, 1)
            for row in stride(from: 0, to: values.count, by: k) {
                let entries = values[row..<(row + k)]
                if let negative = entries.firstIndex(where: { !($0 >= 0) }) { return negative }
                if Swift.abs(entries.reduce(0, +) - 1) > 1e-5 * Float(k) { return row }
            }
            return nil
        case .lowerCholesky:
            let values = value.uncountedScalars
            let d = Swift.max(value.shape.last ?? 1, 1)
            return values.indices.first { i in
                let (row, column) = ((i / d) % d, i % d)
                return column > row ? values[i] != 0 : (column == row ? !(values[i] > 0) : values[i].isNaN)
            }
        default:
            return scalarRange.firstViolation(in: value)
        }
    }

    /// Records `valueOutsideSupport` when `value` leaves the support.
    func validate(_ value: Tensor, distribution: String) {
        guard let bad = firstViolation(in: value) else { return }
        recordDeferredError(DistributionError.valueOutsideSupport(
            distribution: distribution, index: multiIndex(bad, in: value.shape), value: value.uncountedScalars[bad], support: description))
    }

    /// The tensors bounding the set (an interval's ends, a half-line's start); none for the others.
    package var bounds: [Tensor] {
        switch self {
        case let .interval(lower, upper): return [lower, upper]
        case let .greaterThan(lower): return [lower]
        case let .lessThan(upper): return [upper]
        default: return []
        }
    }

    /// The same kind of set with each bounding tensor replaced by `transform` of it.
    package func mappingBounds(_ transform: (Tensor) throws -> Tensor) rethrows -> Constraint {
        switch self {
        case let .interval(lower, upper): return .interval(try transform(lower), try transform(upper))
        case let .greaterThan(lower): return .greaterThan(try transform(lower))
        case let .lessThan(upper): return .lessThan(try transform(upper))
        default: return self
        }
    }

    /// The bijector from unconstrained space onto this set; nil for discrete sets.
    public var bijector: (any Bijector)? {
        switch self {
        case .real: return IdentityBijector()
        case .positive: return ExpBijector()
        case let .greaterThan(lower): return ComposedBijector([ExpBijector(), AffineBijector(loc: lower, scale: 1)])
        case let .lessThan(upper): return ComposedBijector([ExpBijector(), AffineBijector(loc: upper, scale: -1)])
        case let .interval(lower, upper): return ComposedBijector([SigmoidBijector(), AffineBijector(loc: lower, scale: upper - lower)])
        case .unitInterval: return SigmoidBijector()
        case .simplex: return StickBreakingBijector()
        case .lowerCholesky: return LowerCholeskyBijector()
        case .boolean, .integerInterval, .nonnegativeInteger: return nil
        }
    }
}

extension Constraint {
    /// True when every value of `inner` lies in this set: both discrete or both continuous, and
    /// `inner`'s bounds inside this one's elementwise (a simplex or Cholesky factor only in its own
    /// kind). Bounds whose shapes do not broadcast are not compared; bounds are compared within
    /// a relative 1e-6.
    package func contains(_ inner: Constraint) -> Bool {
        guard isDiscrete == inner.isDiscrete else { return false }
        switch (self, inner) {
        case (.simplex, .simplex), (.lowerCholesky, .lowerCholesky): return true
        case (.simplex, _), (_, .simplex), (.lowerCholesky, _), (_, .lowerCholesky): return false
        default:
            let (outer, within) = (elementBounds, inner.elementBounds)
            return isAtLeast(within.lower, outer.lower) && isAtLeast(outer.upper, within.upper)
        }
    }

    /// The least and greatest value of each element (infinite where unbounded).
    private var elementBounds: (lower: Tensor, upper: Tensor) {
        switch self {
        case .real, .simplex, .lowerCholesky: return (Tensor(-Float.infinity), Tensor(Float.infinity))
        case .positive: return (Tensor(0), Tensor(Float.infinity))
        case let .greaterThan(lower): return (lower, Tensor(Float.infinity))
        case let .lessThan(upper): return (Tensor(-Float.infinity), upper)
        case let .interval(lower, upper): return (lower, upper)
        case .unitInterval, .boolean: return (Tensor(0), Tensor(1))
        case let .integerInterval(lower, upper): return (Tensor(Float(lower)), Tensor(Float(upper)))
        case .nonnegativeInteger: return (Tensor(0), Tensor(Float.infinity))
        }
    }

    /// `a >= b` elementwise, within a few units of float rounding (an affine map's `loc + scale`
    /// can land an ulp beyond the bound it was made from).
    private func isAtLeast(_ a: Tensor, _ b: Tensor) -> Bool {
        guard let shape = Shape.broadcast(a.shape, b.shape) else { return true }
        let (x, y) = (a.detached.expanded(to: shape).uncountedScalars, b.detached.expanded(to: shape).uncountedScalars)
        return zip(x, y).allSatisfy { $0 >= $1 || $0 >= $1 - 1e-6 * Swift.abs($1) }
    }
}

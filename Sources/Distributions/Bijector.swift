import TensorCore

/// An invertible, differentiable map `y = f(x)` from unconstrained space onto a constrained
/// set, with the log-determinant of its Jacobian (for change of variables:
/// `log q(y) = log p(x) - log |det df/dx|`).
public protocol Bijector {
    /// Trailing axes of `x` that one application mixes (0 elementwise, 1 for vectors).
    var domainEventRank: Int { get }
    /// `y = f(x)`.
    func forward(_ x: Tensor) -> Tensor
    /// `x = f^-1(y)`.
    func inverse(_ y: Tensor) -> Tensor
    /// `log |det df/dx|` at `x` (with `y = f(x)`), summed over the `domainEventRank` axes.
    func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor
    /// The shape of `f(x)` for `x` of `shape` (the same, but for stick breaking).
    func forwardShape(_ shape: [Int]) -> [Int]
    /// `f(domain)`, or a set that holds it: the support of a distribution pushed through `f`.
    func codomain(of domain: Constraint) -> Constraint
}

extension Bijector {
    public func forwardShape(_ shape: [Int]) -> [Int] { shape }
    /// The real numbers: a bijector onto a smaller set says which, or a guide would propose
    /// values outside it.
    public func codomain(of domain: Constraint) -> Constraint { .real }
}

/// `y = x`.
public struct IdentityBijector: Bijector {
    public init() {}
    public var domainEventRank: Int { 0 }
    public func forward(_ x: Tensor) -> Tensor { x }
    public func inverse(_ y: Tensor) -> Tensor { y }
    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor { Tensor.zeros(x.shape) }
    public func codomain(of domain: Constraint) -> Constraint { domain }
}

/// `y = e^x`, onto the positive reals; `log |dy/dx| = x`.
public struct ExpBijector: Bijector {
    public init() {}
    public var domainEventRank: Int { 0 }
    public func forward(_ x: Tensor) -> Tensor { exp(x) }
    public func inverse(_ y: Tensor) -> Tensor { log(y) }
    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor { x }
    public func codomain(of domain: Constraint) -> Constraint { increasingImage(of: domain, under: forward, line: .positive, top: nil) }
}

/// `y = log(1 + e^x)`, onto the positive reals; `log |dy/dx| = log sigmoid(x)`.
public struct SoftplusBijector: Bijector {
    public init() {}
    public var domainEventRank: Int { 0 }
    public func forward(_ x: Tensor) -> Tensor { softplus(x) }
    /// `x = y + log(-expm1(-y))`.
    public func inverse(_ y: Tensor) -> Tensor { y + log(-expm1(-y)) }
    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor { logSigmoid(x) }
    public func codomain(of domain: Constraint) -> Constraint { increasingImage(of: domain, under: forward, line: .positive, top: nil) }
}

/// `y = 1 / (1 + e^-x)`, onto (0, 1); `log |dy/dx| = log sigmoid(x) + log sigmoid(-x)`.
public struct SigmoidBijector: Bijector {
    public init() {}
    public var domainEventRank: Int { 0 }
    /// Kept inside the open interval in float32: beyond |x| of about 17 (87 below) the sigmoid
    /// rounds to 1 (to 0 or a subnormal), where a density on (0, 1) such as Beta(0.1, 0.1) is
    /// infinite; there it is held at the float next to the end.
    public func forward(_ x: Tensor) -> Tensor { clamp(sigmoid(x), min: .leastNormalMagnitude, max: Float(1).nextDown) }
    /// `x = log y - log(1 - y)`.
    public func inverse(_ y: Tensor) -> Tensor { log(y) - log1p(-y) }
    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor { logSigmoid(x) + logSigmoid(-x) }
    public func codomain(of domain: Constraint) -> Constraint { increasingImage(of: domain, under: forward, line: .unitInterval, top: Tensor(1)) }
}

/// `y = loc + scale * x`; `log |dy/dx| = log |scale|`.
public struct AffineBijector: Bijector {
    public let loc: Tensor
    public let scale: Tensor
    public init(loc: Tensor, scale: Tensor) {
        self.loc = loc
        self.scale = scale
    }
    public var domainEventRank: Int { 0 }
    public func forward(_ x: Tensor) -> Tensor { loc + scale * x }
    public func inverse(_ y: Tensor) -> Tensor { (y - loc) / scale }
    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor { log(abs(scale)) + Tensor.zeros(x.shape) }
    /// Bounds move with the map, and swap when `scale` is negative (a half-line then turns the
    /// other way); a scale of mixed signs, or 0, gives the real numbers.
    public func codomain(of domain: Constraint) -> Constraint {
        let signs = Set(scale.uncountedScalars.map { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 })
        guard signs.count == 1, let sign = signs.first, sign != 0 else { return .real }
        switch domain {
        case .positive: return sign > 0 ? .greaterThan(loc) : .lessThan(loc)
        case let .greaterThan(lower): return sign > 0 ? .greaterThan(forward(lower)) : .lessThan(forward(lower))
        case let .lessThan(upper): return sign > 0 ? .lessThan(forward(upper)) : .greaterThan(forward(upper))
        case .unitInterval: return sign > 0 ? .interval(loc, loc + scale) : .interval(loc + scale, loc)
        case let .interval(lower, upper): return sign > 0 ? .interval(forward(lower), forward(upper)) : .interval(forward(upper), forward(lower))
        default: return .real
        }
    }
}

/// Bijectors applied in order: `y = f_n(... f_1(x))`.
public struct ComposedBijector: Bijector {
    public let parts: [any Bijector]
    public init(_ parts: [any Bijector]) { self.parts = parts }
    public var domainEventRank: Int { parts.map(\.domainEventRank).max() ?? 0 }
    public func forward(_ x: Tensor) -> Tensor { parts.reduce(x) { $1.forward($0) } }
    public func inverse(_ y: Tensor) -> Tensor { parts.reversed().reduce(y) { $1.inverse($0) } }
    public func forwardShape(_ shape: [Int]) -> [Int] { parts.reduce(shape) { $1.forwardShape($0) } }
    public func codomain(of domain: Constraint) -> Constraint { parts.reduce(domain) { $1.codomain(of: $0) } }
    /// The sum of each part's term, each summed up to the largest event rank.
    public func logAbsDetJacobian(_ x: Tensor, _ y: Tensor) -> Tensor {
        let rank = domainEventRank
        var total = Tensor(0)
        var input = x
        for part in parts {
            let output = part.forward(input)
            let term = part.logAbsDetJacobian(input, output)
            let extra = rank - part.domainEventRank
            total = total + (extra > 0 ? term.sum(axes: Array((term.rank - extra)..<term.rank)) : term)
            input = output
        }
        return total
    }
}

/// The image of `domain` under an increasing elementwise map `f` whose image of the real line is
/// `line`, which starts at 0 and is bounded above by `top` (nil: unbounded): each bound moves
/// through `f`.
func increasingImage(of domain: Constraint, under f: (Tensor) -> Tensor, line: Constraint, top: Tensor?) -> Constraint {
    func fromBelow(_ lower: Tensor) -> Constraint { top.map { .interval(f(lower), $0) } ?? .greaterThan(f(lower)) }
    switch domain {
    case .positive: return fromBelow(Tensor(0))
    case let .greaterThan(lower): return fromBelow(lower)
    case let .lessThan(upper): return .interval(Tensor(0), f(upper))
    case .unitInterval: return .interval(f(Tensor(0)), f(Tensor(1)))
    case let .interval(lower, upper): return .interval(f(lower), f(upper))
    default: return line
    }
}

import TensorCore

/// The values a parameter or an observation may take elementwise: `lower <= x <= upper`, and
/// an integer when `integral`. NaN lies in no range.
struct ScalarRange: CustomStringConvertible {
    let lower: Float
    let upper: Float
    var integral = false
    let description: String

    static let finite = ScalarRange(lower: -.greatestFiniteMagnitude, upper: .greatestFiniteMagnitude, description: "finite")
    static let notNaN = ScalarRange(lower: -.infinity, upper: .infinity, description: "not NaN")
    static let belowInfinity = ScalarRange(lower: -.infinity, upper: .greatestFiniteMagnitude, description: "not NaN or +inf")
    /// `x > 0`: the least positive float is the least value above 0.
    static let positive = ScalarRange(lower: .leastNonzeroMagnitude, upper: .infinity, description: "positive")
    static let nonnegative = ScalarRange(lower: 0, upper: .infinity, description: "nonnegative")
    /// A scale, rate or concentration: above 0 and finite (Gamma(+inf) sampled NaN).
    static let positiveFinite = ScalarRange(lower: .leastNonzeroMagnitude, upper: .greatestFiniteMagnitude, description: "positive and finite")
    static let unitInterval = ScalarRange(lower: 0, upper: 1, description: "in [0, 1]")

    /// The flat index of the first element of `value` outside the range, if any.
    func firstViolation(in value: Tensor) -> Int? {
        value.firstIndex(outside: lower, upper, integral: integral)
    }
}

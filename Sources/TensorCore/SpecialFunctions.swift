import Foundation

/// Log-gamma, digamma and trigamma in Double, by recurrence to large arguments and
/// asymptotic series there (Abramowitz & Stegun 6.3.18, 6.4.12), with reflection for x < 0.
package enum SpecialFunctions {
    /// `log |Gamma(x)|`; +inf at the poles 0, -1, -2, ...
    static func logGamma(_ x: Double) -> Double {
        Foundation.lgamma(x)
    }

    /// Stirling's remainder `log Gamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2]` for x > 0:
    /// about 1/(12x), so a difference of log Gamma at large arguments written with it keeps the
    /// digits that cancel when each log Gamma is rounded.
    static func stirlingRemainder(_ x: Double) -> Double {
        guard x > 0 else { return .nan }
        if x < 10 { return Foundation.lgamma(x) - (x - 0.5) * Foundation.log(x) + x - 0.5 * Foundation.log(2 * Double.pi) }
        let inverse2 = 1 / (x * x)
        return (1.0 / 12 - inverse2 * (1.0 / 360 - inverse2 * (1.0 / 1260 - inverse2 / 1680))) / x
    }

    /// `d/dx` of `stirlingRemainder`: `psi(x) - log x + 1/(2x)`.
    static func stirlingRemainderDerivative(_ x: Double) -> Double {
        guard x > 0 else { return .nan }
        if x < 10 { return digamma(x) - Foundation.log(x) + 0.5 / x }
        let inverse2 = 1 / (x * x)
        return -inverse2 * (1.0 / 12 - inverse2 * (1.0 / 120 - inverse2 * (1.0 / 252 - inverse2 / 240)))
    }

    /// `d^2/dx^2` of `stirlingRemainder`: `psi'(x) - 1/x - 1/(2x^2)`, about 1/(6x^3).
    static func stirlingRemainderSecondDerivative(_ x: Double) -> Double {
        guard x > 0 else { return .nan }
        if x < 10 { return trigamma(x) - 1 / x - 0.5 / (x * x) }
        let inverse2 = 1 / (x * x)
        return inverse2 / x * (1.0 / 6 - inverse2 * (1.0 / 30 - inverse2 * (1.0 / 42 - inverse2 / 30)))
    }

    /// `psi(x)`; NaN at the poles 0, -1, -2, ...
    package static func digamma(_ x: Double) -> Double {
        guard x.isFinite else { return x == .infinity ? .infinity : .nan }
        if x <= 0 {
            if x == x.rounded() { return .nan }
            return digamma(1 - x) - Double.pi / Foundation.tan(Double.pi * x)
        }
        var x = x
        var result = 0.0
        while x < 6 {
            result -= 1 / x
            x += 1
        }
        let inverse2 = 1 / (x * x)
        let series = inverse2 * (1.0 / 12 - inverse2 * (1.0 / 120 - inverse2 * (1.0 / 252 - inverse2 * (1.0 / 240 - inverse2 / 132))))
        return result + Foundation.log(x) - 0.5 / x - series
    }

    /// `psi'(x)`; NaN at the poles 0, -1, -2, ...
    static func trigamma(_ x: Double) -> Double {
        guard x.isFinite else { return x == .infinity ? 0 : .nan }
        if x <= 0 {
            if x == x.rounded() { return .nan }
            let sine = Foundation.sin(Double.pi * x)
            return Double.pi * Double.pi / (sine * sine) - trigamma(1 - x)
        }
        var x = x
        var result = 0.0
        while x < 6 {
            result += 1 / (x * x)
            x += 1
        }
        let inverse = 1 / x
        let inverse2 = inverse * inverse
        let series = inverse2 * inverse * (1.0 / 6 - inverse2 * (1.0 / 30 - inverse2 * (1.0 / 42 - inverse2 / 30)))
        return result + inverse + inverse2 / 2 + series
    }
}

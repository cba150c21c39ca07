import Foundation
import TensorCore

/// Draws from Gamma(alpha, 1), shape `sampleShape + concentration.shape`, differentiable in
/// `alpha` by implicit reparameterization (Figurnov et al. 2018):
/// `dx/dalpha = -(dF/dalpha)(x; alpha) / p(x; alpha)`, with `F` the regularized lower
/// incomplete gamma function. Beta, Dirichlet and Student's t draw through this.
func standardGamma(_ concentration: Tensor, _ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
    implicitlyDifferentiated(concentration, sampleShape, using: &generator, draw: Tensor.randomGamma) { IncompleteGamma.drawDerivative(alpha: $0, x: $1) }
}

/// The logarithms of Gamma(alpha, 1) draws, shape `sampleShape + concentration.shape`, which
/// do not underflow where the draws do (at small alpha): Beta, Dirichlet and Student's t are
/// ratios of draws, 0 / 0 when both underflow. Differentiable in `alpha`, as
/// `(dx/dalpha) / x`.
func logStandardGamma(_ concentration: Tensor, _ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
    implicitlyDifferentiated(concentration, sampleShape, using: &generator, draw: Tensor.randomLogGamma) { IncompleteGamma.logDrawDerivative(alpha: $0, logX: $1) }
}

/// `draw` of the concentration broadcast to `sampleShape + concentration.shape`, its gradient
/// in alpha the incoming one times `derivative(alpha, drawn)` element by element.
private func implicitlyDifferentiated(_ concentration: Tensor, _ sampleShape: [Int], using generator: inout RandomGenerator,
                                      draw: (Tensor, inout RandomGenerator) -> Tensor, derivative: @escaping (Double, Double) -> Double) -> Tensor {
    let alpha = concentration.expanded(to: sampleShape + concentration.shape)
    let drawn = draw(alpha.detached, &generator)
    return drawn.recorded(inputs: [alpha]) { g, _ in
        let a = alpha.uncountedScalars, x = drawn.uncountedScalars
        return [g * Tensor(shape: drawn.shape, scalars: zip(a, x).map { Float(derivative(Double($0), Double($1))) })]
    }
}

/// The regularized lower incomplete gamma function and the implicit derivative of a draw.
enum IncompleteGamma {
    /// `P(a, x) = gamma(a, x) / Gamma(a)`: the series for `x < a + 1`, otherwise one minus the
    /// continued fraction of `Q(a, x)` (modified Lentz).
    static func regularizedLower(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 0 }
        let logPrefactor = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, total = term, n = a
            while Swift.abs(term) > Swift.abs(total) * 1e-17 {
                n += 1
                term *= x / n
                total += term
            }
            return total * exp(logPrefactor)
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, fraction = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            d = Swift.abs(d) < tiny ? tiny : d
            c = b + an / c
            c = Swift.abs(c) < tiny ? tiny : c
            d = 1 / d
            let delta = d * c
            fraction *= delta
            if Swift.abs(delta - 1) < 1e-16 { break }
        }
        return 1 - exp(logPrefactor) * fraction
    }

    /// `d log x / dalpha` of a Gamma(alpha, 1) draw `x = e^logX`: `(dx/dalpha) / x`; below
    /// x = 1e-13, where `P(a, x) = x^a / Gamma(a + 1)` to 13 digits, its closed form
    /// `(psi(alpha + 1) - log x) / alpha`, which needs no x that a Double can hold.
    static func logDrawDerivative(alpha: Double, logX: Double) -> Double {
        guard alpha > 0, logX.isFinite else { return 0 }
        if logX < -30 { return (SpecialFunctions.digamma(alpha + 1) - logX) / alpha }
        let x = exp(logX)
        return drawDerivative(alpha: alpha, x: x) / x
    }

    /// `dx/dalpha` of a Gamma(alpha, 1) draw `x`: `-(dP/dalpha) / p(x; alpha)`, with `dP/dalpha`
    /// by a central difference (step 1e-5 alpha; P is smooth in alpha, error ~1e-9).
    static func drawDerivative(alpha: Double, x: Double) -> Double {
        guard alpha > 0, x > 0 else { return 0 }
        let h = 1e-5 * Swift.max(alpha, 1e-3)
        let dPdAlpha = (regularizedLower(alpha + h, x) - regularizedLower(alpha - h, x)) / (2 * h)
        let logDensity = (alpha - 1) * log(x) - x - lgamma(alpha)
        return -dPdAlpha / exp(logDensity)
    }
}

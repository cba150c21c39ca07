import CKernels
import Foundation

// Elementwise functions of one tensor, each with its derivative. The transcendental ones
// run on the vectorized kernels of CKernels and are written in numerically stable forms.

extension Tensor {
    /// `f` applied to every element.
    @inline(__always)
    package func mapped(_ f: (Float) -> Float) -> Tensor {
        Tensor.build(shape) { out in
            let input = storage.pointer
            for i in 0..<count { out[i] = f(input[i]) }
        }
    }

    /// A vectorized kernel `kernel(x, y, n)` applied to every element, large tensors split
    /// across the kernel threads.
    func applying(_ kernel: @escaping (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64) -> Void) -> Tensor {
        Tensor.build(shape) { out in
            guard count >= elementsWorthSplitting else { return kernel(storage.pointer, out, Int64(count)) }
            let pointers = UncheckedSendable((storage.pointer, out))
            parallelChunks(count) { start, length in
                kernel(pointers.value.0 + start, pointers.value.1 + start, Int64(length))
            }
        }
    }

    /// A vectorized kernel `kernel(x, other, y, n)` of `self` and `other`, a tensor of the same
    /// shape, large tensors split across the kernel threads.
    func applying(_ kernel: @escaping (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64) -> Void, with other: Tensor) -> Tensor {
        precondition(other.shape == shape, "applying: shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape)) differ")
        return Tensor.build(shape) { out in
            guard count >= elementsWorthSplitting else { return kernel(storage.pointer, other.storage.pointer, out, Int64(count)) }
            let pointers = UncheckedSendable((storage.pointer, other.storage.pointer, out))
            parallelChunks(count) { start, length in
                kernel(pointers.value.0 + start, pointers.value.1 + start, pointers.value.2 + start, Int64(length))
            }
        }
    }
}

/// Elementwise `e^x`.
public func exp(_ x: Tensor) -> Tensor {
    let y = x.applying(latent_vexp)
    return y.recorded(inputs: [x]) { g, _ in [g * y] }
}

/// Elementwise natural logarithm; `-inf` at 0 and NaN below.
public func log(_ x: Tensor) -> Tensor {
    x.applying(latent_vlog).recorded(inputs: [x]) { g, _ in [g / x] }
}

/// Elementwise `log(1 + x)`, accurate for tiny `x`.
public func log1p(_ x: Tensor) -> Tensor {
    x.applying(latent_vlog1p).recorded(inputs: [x]) { g, _ in [g / (x + 1)] }
}

/// Elementwise `e^x - 1`, accurate for tiny `x`.
public func expm1(_ x: Tensor) -> Tensor {
    let y = x.applying(latent_vexpm1)
    return y.recorded(inputs: [x]) { g, _ in [g * (y + 1)] }
}

/// Elementwise square root.
public func sqrt(_ x: Tensor) -> Tensor {
    let y = x.mapped { $0.squareRoot() }
    return y.recorded(inputs: [x]) { g, _ in [g * 0.5 / y] }
}

/// Elementwise `x^2`.
public func square(_ x: Tensor) -> Tensor {
    x.mapped { $0 * $0 }.recorded(inputs: [x]) { g, _ in [g * 2 * x] }
}

/// Elementwise `|x|`; its derivative is taken as 0 at 0.
public func abs(_ x: Tensor) -> Tensor {
    x.mapped { Swift.abs($0) }.recorded(inputs: [x]) { g, _ in [g * x.mapped { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }] }
}

/// Elementwise hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor {
    let y = x.applying(latent_vtanh)
    return y.recorded(inputs: [x]) { g, _ in [g * (1 - y * y)] }
}

/// Elementwise logistic sigmoid `1 / (1 + e^-x)`, stable in both tails.
public func sigmoid(_ x: Tensor) -> Tensor {
    let y = x.applying(latent_vsigmoid)
    return y.recorded(inputs: [x]) { g, _ in [g * y * (1 - y)] }
}

/// Elementwise softplus `log(1 + e^x) = Swift.max(x, 0) + log1p(e^-|x|)`.
public func softplus(_ x: Tensor) -> Tensor {
    x.applying(latent_vsoftplus).recorded(inputs: [x]) { g, _ in [g * sigmoid(x)] }
}

/// Elementwise `log sigmoid(x) = -softplus(-x)`.
public func logSigmoid(_ x: Tensor) -> Tensor {
    x.applying(latent_vlogsigmoid).recorded(inputs: [x]) { g, _ in [g * sigmoid(-x)] }
}

/// Elementwise rectified linear unit `Swift.max(x, 0)`.
public func relu(_ x: Tensor) -> Tensor {
    x.applying(latent_vrelu).recorded(inputs: [x]) { g, _ in [x.applying(latent_vrelu_backward, with: g)] }
}

/// Elementwise leaky ReLU: `x` for positive `x`, `slope * x` otherwise.
public func leakyRelu(_ x: Tensor, slope: Float = 0.01) -> Tensor {
    x.mapped { $0 > 0 ? $0 : slope * $0 }.recorded(inputs: [x]) { g, _ in [g * x.mapped { $0 > 0 ? 1 : slope }] }
}

/// Elementwise exponential linear unit: `x` for positive `x`, `alpha (e^x - 1)` otherwise.
public func elu(_ x: Tensor, alpha: Float = 1) -> Tensor {
    let y = x.mapped { $0 > 0 ? $0 : alpha * Foundation.expm1($0) }
    return y.recorded(inputs: [x]) { g, _ in [g * Tensor.broadcasting("elu", x, y) { $0 > 0 ? 1 : $1 + alpha }] }
}

/// Elementwise `log |Gamma(x)|`.
public func lgamma(_ x: Tensor) -> Tensor {
    x.mapped { Float(SpecialFunctions.logGamma(Double($0))) }.recorded(inputs: [x]) { g, _ in [g * digamma(x)] }
}

/// Elementwise Stirling remainder `log Gamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2]`
/// (x > 0), in double precision: log densities with large arguments are written with it.
package func logGammaRemainder(_ x: Tensor) -> Tensor {
    x.mapped { Float(SpecialFunctions.stirlingRemainder(Double($0))) }.recorded(inputs: [x]) { g, _ in
        [g * logGammaRemainderDerivative(x)]
    }
}

/// Elementwise derivative of Stirling's remainder, `R'(x) = psi(x) - log x + 1/(2x)` (x > 0), in
/// double precision: with it `psi(x) = log x - 1/(2x) + R'(x)` splits into terms that do not
/// cancel at large x.
package func logGammaRemainderDerivative(_ x: Tensor) -> Tensor {
    x.mapped { Float(SpecialFunctions.stirlingRemainderDerivative(Double($0))) }.recorded(inputs: [x]) { g, _ in
        [g * x.mapped { Float(SpecialFunctions.stirlingRemainderSecondDerivative(Double($0))) }]
    }
}

/// `bernoulliLogLikelihood(logits:values:)` summed over the last `axes` axes, the terms never
/// written out: the same numbers, bit for bit, and the same gradients as summing them.
package func bernoulliLogLikelihood(logits: Tensor, values: Tensor, summingLast axes: Int) -> Tensor {
    let trailing = Array(logits.shape.suffix(axes))
    guard axes >= 1, axes <= logits.rank, logits.shape == values.shape, logits.count > 0 else {
        let terms = bernoulliLogLikelihood(logits: logits, values: values)
        return terms.sum(axes: Array((terms.rank - Swift.min(axes, terms.rank))..<terms.rank))
    }
    let columns = Shape.count(trailing), rows = logits.count / columns
    let kept = Array(logits.shape.dropLast(axes))
    guard let derivative = derivativeStorage(for: logits) else { return Tensor.full(kept, .nan) }
    let parts = logits.count < elementsWorthSplitting ? 1 : Swift.min(rows, ComputeThreads.count)
    let result = Tensor.build(kept) { out in
        let pointers = UncheckedSendable((logits.storage.pointer, values.storage.pointer, out, derivative?.pointer))
        parallelFor(parts) { part in
            let (l, x, y, d) = pointers.value
            let start = rows * part / parts, end = rows * (part + 1) / parts
            latent_bernoulli_log_likelihood_rows(l + start * columns, x + start * columns, y + start, d.map { $0 + start * columns }, Int64(end - start), Int64(columns))
        }
    }
    return result.recorded(inputs: [logits, values]) { g, needs in
        let spread = g.reshaped(to: kept + [Int](repeating: 1, count: axes)).expanded(to: logits.shape)
        return bernoulliTermGradients(spread, logits: logits, values: values, derivative: derivative, needs: needs)
    }
}

/// Room for the fused kernel's derivative in `l`: `.some(nil)` when `l` is not on a tape, nil
/// when the memory was refused (the refusal is recorded).
private func derivativeStorage(for logits: Tensor) -> TensorStorage?? {
    guard Tensor.isTracked([logits]) else { return .some(nil) }
    let room = Tensor.build(logits.shape) { _ in }
    return room.count == logits.count ? room.storage : nil
}

/// The gradients of the terms `x l - softplus(l)` under `g`, of their shape: `g (x - sigmoid(l))`
/// in `l` (from the fused kernel's `derivative` when it wrote one) and `g l` in `x`.
private func bernoulliTermGradients(_ g: Tensor, logits: Tensor, values: Tensor, derivative: TensorStorage?, needs: InputsNeedingGradients) -> [Tensor?] {
    [needs[0] ? g * (derivative.map { Tensor(storage: $0, shape: logits.shape) } ?? values - sigmoid(logits)) : nil,
     needs[1] ? g * logits : nil]
}

/// Elementwise digamma `psi(x) = d/dx log Gamma(x)`.
public func digamma(_ x: Tensor) -> Tensor {
    x.mapped { Float(SpecialFunctions.digamma(Double($0))) }.recorded(inputs: [x]) { g, _ in [g * trigamma(x)] }
}

/// Elementwise trigamma `psi'(x)`; its own derivative is not provided (gradient 0).
public func trigamma(_ x: Tensor) -> Tensor {
    x.mapped { Float(SpecialFunctions.trigamma(Double($0))) }
}

/// Elementwise `x l - softplus(l)`: the log-likelihood of `x` under Bernoulli(sigmoid(l)) (the
/// negative binary cross-entropy with logits), fused in one pass with its gradient
/// `x - sigmoid(l)` in `l` when `l` is on a tape (and `l` in `x`). Shapes that differ go
/// through the composed form.
public func bernoulliLogLikelihood(logits: Tensor, values: Tensor) -> Tensor {
    guard logits.shape == values.shape else { return values * logits - softplus(logits) }
    guard let derivative = derivativeStorage(for: logits) else { return Tensor.full(logits.shape, .nan) }
    let result = Tensor.build(logits.shape) { out in
        let pointers = UncheckedSendable((logits.storage.pointer, values.storage.pointer, out, derivative?.pointer))
        parallelChunks(logits.count) { start, length in
            let (l, x, y, d) = pointers.value
            latent_bernoulli_log_likelihood(l + start, x + start, y + start, d.map { $0 + start }, Int64(length))
        }
    }
    return result.recorded(inputs: [logits, values]) { g, needs in
        bernoulliTermGradients(g, logits: logits, values: values, derivative: derivative, needs: needs)
    }
}

import CKernels
import Dispatch

/// The matrix product `op(a) op(b)`, where `op` transposes the last two dimensions when asked.
///
/// Vectors are treated as a row (`a`) or a column (`b`) and that dimension dropped from the
/// result. Leading (batch) dimensions broadcast. Inner dimensions that differ are a
/// `TensorError` naming both shapes.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    if a.rank == 1 {
        let product = matmul(a.reshaped(to: transposeA ? [a.count, 1] : [1, a.count]), b, transposeA: transposeA, transposeB: transposeB)
        return product.reshaped(to: Array(product.shape.dropLast(2)) + [product.shape.last ?? 0])
    }
    if b.rank == 1 {
        let product = matmul(a, b.reshaped(to: transposeB ? [1, b.count] : [b.count, 1]), transposeA: transposeA, transposeB: transposeB)
        return product.reshaped(to: Array(product.shape.dropLast()))
    }
    guard a.rank >= 2, b.rank >= 2 else {
        return Tensor.failure("matmul", "cannot multiply \(Shape.describe(a.shape)) by \(Shape.describe(b.shape)): scalars have no matrix product", shape: [])
    }
    let (m, kA) = transposeA ? (a.shape[a.rank - 1], a.shape[a.rank - 2]) : (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (kB, n) = transposeB ? (b.shape[b.rank - 1], b.shape[b.rank - 2]) : (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    guard kA == kB, let batch = Shape.broadcast(batchA, batchB) else {
        let what = kA != kB ? "inner dimensions \(kA) and \(kB) differ" : "batch dimensions do not broadcast"
        let flags = (transposeA ? " transposing the first" : "") + (transposeB ? " transposing the second" : "")
        return Tensor.failure("matmul", "cannot multiply \(Shape.describe(a.shape)) by \(Shape.describe(b.shape))\(flags): \(what)", shape: Shape.broadcastFallback(batchA, batchB) + [m, n])
    }
    if batchB.isEmpty, !transposeA, !batchA.isEmpty {
        let flat = batchedMatmul(a.reshaped(to: [-1, kA]), b, transposeA: false, transposeB: transposeB)
        return flat.reshaped(to: batchA + [m, n])
    }
    return batchedMatmul(a.expanded(to: batch + Array(a.shape.suffix(2))), b.expanded(to: batch + Array(b.shape.suffix(2))), transposeA: transposeA, transposeB: transposeB)
}

/// `op(a) op(b)` for operands with identical batch dimensions and matching inner dimensions.
func batchedMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    let rows = a.shape[a.rank - 2], columns = b.shape[b.rank - 1]
    let m = transposeA ? columnsOf(a) : rows
    let k = transposeA ? rows : columnsOf(a)
    let n = transposeB ? b.shape[b.rank - 2] : columns
    let batch = Array(a.shape.dropLast(2))
    let batches = Shape.count(batch)
    let result = Tensor.build(batch + [m, n]) { out in
        for index in 0..<batches {
            MatrixKernel.multiply(
                m: m, n: n, k: k,
                a: a.storage.pointer + index * m * k, transposeA: transposeA,
                b: b.storage.pointer + index * k * n, transposeB: transposeB,
                c: out + index * m * n)
        }
    }
    return result.recorded(inputs: [a, b]) { g, needs in
        let gradientA = !needs[0] ? nil : transposeA
            ? batchedMatmul(b, g, transposeA: transposeB, transposeB: true)
            : batchedMatmul(g, b, transposeA: false, transposeB: !transposeB)
        let gradientB = !needs[1] ? nil : transposeB
            ? batchedMatmul(g, a, transposeA: true, transposeB: transposeA)
            : batchedMatmul(a, g, transposeA: !transposeA, transposeB: false)
        return [gradientA, gradientB]
    }
}

private func columnsOf(_ t: Tensor) -> Int { t.shape[t.rank - 1] }

/// Time and work spent in matrix products while `isMeasuring` (for `latent bench vae`); read
/// and reset between steps, from the thread that runs them.
package enum MatrixMultiplyMeter {
    nonisolated(unsafe) package static var isMeasuring = false
    nonisolated(unsafe) package static var nanoseconds: UInt64 = 0
    nonisolated(unsafe) package static var multiplyAdds = 0
}

/// Single-precision matrix multiply on the CKernels GEMM, split across `ComputeThreads`.
enum MatrixKernel {
    /// Work below which one thread is faster than two (in multiply-adds).
    static let parallelThreshold = 1 << 19

    /// Work from which a left operand that is mostly one value per column (standardized
    /// binarized images) is multiplied as that baseline plus its few other values.
    static let sparseThreshold = 1 << 16

    /// The GEMM's register tile: threads take blocks of C in multiples of it.
    static let tileShape: (rows: Int, columns: Int) = {
        var rows: Int64 = 0, columns: Int64 = 0
        latent_sgemm_tile_shape(&rows, &columns)
        return (Int(rows), Int(columns))
    }()

    /// `c = op(a) op(b)` with row-major contiguous `a` (`m x k`, or `k x m` when transposed),
    /// `b` (`k x n`, or `n x k`) and `c` (`m x n`); `c += op(a) op(b)` when `accumulate`, and
    /// `c = op(a) op(b) + 1 bias^T` with a `bias` of `n` floats.
    static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, transposeA: Bool,
        b: UnsafePointer<Float>, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, accumulate: Bool = false, bias: UnsafePointer<Float>? = nil
    ) {
        guard m > 0, n > 0 else { return }
        let started = MatrixMultiplyMeter.isMeasuring ? DispatchTime.now().uptimeNanoseconds : 0
        defer {
            if MatrixMultiplyMeter.isMeasuring {
                MatrixMultiplyMeter.nanoseconds += DispatchTime.now().uptimeNanoseconds - started
                MatrixMultiplyMeter.multiplyAdds += m * n * k
            }
        }
        let (aRow, aColumn) = transposeA ? (1, m) : (k, 1)
        let (bRow, bColumn) = transposeB ? (1, k) : (n, 1)
        let beta: Float = accumulate ? 1 : 0
        let threads = m * n * k < parallelThreshold ? 1 : Swift.min(ComputeThreads.count, 8)
        let splitColumns = n >= m
        let extent = splitColumns ? n : m
        let grain = splitColumns ? tileShape.columns : tileShape.rows
        let chunk = ((extent + threads - 1) / threads + grain - 1) / grain * grain
        let parts = (extent + chunk - 1) / chunk
        // A left operand that is mostly one value per column (standardized binarized images)
        // is taken apart: each thread lists the entries off the baseline in the rows it
        // multiplies (all of them when the threads split the columns).
        let baseline = transposeB || m * n * k < sparseThreshold ? nil : latent_sparse_baseline(Int64(m), Int64(k), a, Int64(aRow), Int64(aColumn))
        let pointers = UncheckedSendable((a, b, c, baseline, bias))
        parallelFor(parts) { part in
            let (a, b, c, baseline, bias) = pointers.value
            let start = part * chunk
            let size = Swift.min(chunk, extent - start)
            switch (baseline, splitColumns) {
            case let (baseline?, true):
                latent_sgemm_sparse(Int64(m), Int64(size), Int64(k), a, Int64(aRow), Int64(aColumn), baseline,
                                    b + start, Int64(bRow), beta, bias.map { $0 + start }, c + start, Int64(n))
            case let (baseline?, false):
                latent_sgemm_sparse(Int64(size), Int64(n), Int64(k), a + start * aRow, Int64(aRow), Int64(aColumn), transposeA ? baseline + start : baseline,
                                    b, Int64(bRow), beta, bias, c + start * n, Int64(n))
            case (nil, true):
                latent_sgemm(Int64(m), Int64(size), Int64(k), 1, a, Int64(aRow), Int64(aColumn),
                             b + start * bColumn, Int64(bRow), Int64(bColumn), beta, bias.map { $0 + start }, c + start, Int64(n))
            case (nil, false):
                latent_sgemm(Int64(size), Int64(n), Int64(k), 1, a + start * aRow, Int64(aRow), Int64(aColumn),
                             b, Int64(bRow), Int64(bColumn), beta, bias, c + start * n, Int64(n))
            }
        }
    }
}

/// The affine map `x W + b` over the last axis of `x` (`W` of shape `[k, n]`, `b` of `[n]`):
/// the GEMM adds the bias as it writes each tile of the product, one pass over the result fewer
/// than `matmul(x, W) + b`, which it equals.
public func affine(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> Tensor {
    guard x.rank >= 1, weight.rank == 2, weight.shape[0] > 0, bias.shape == [weight.shape[1]], x.shape[x.rank - 1] == weight.shape[0] else {
        return matmul(x, weight) + bias
    }
    let (k, n) = (weight.shape[0], weight.shape[1])
    let m = x.count / Swift.max(k, 1)
    let flat = x.reshaped(to: [m, k])
    let result = Tensor.build([m, n]) { out in
        bias.withElements { b in
            MatrixKernel.multiply(m: m, n: n, k: k, a: flat.storage.pointer, transposeA: false, b: weight.storage.pointer, transposeB: false, c: out, bias: b)
        }
    }
    return result.recorded(inputs: [flat, weight, bias]) { g, needs in
        [needs[0] ? batchedMatmul(g, weight, transposeA: false, transposeB: true) : nil,
         needs[1] ? batchedMatmul(flat, g, transposeA: true, transposeB: false) : nil,
         needs[2] ? g.sum(axis: 0) : nil]
    }.reshaped(to: Array(x.shape.dropLast()) + [n])
}

// Solving triangular systems, for Gaussian densities with a Cholesky factor.

/// `X` solving `L X = B` (or `L^T X = B` when `transpose`), for lower-triangular `L` of shape
/// `batch + [n, n]` and `B` of shape `batch + [n, k]` (identical batch dimensions), by
/// substitution. Only the lower triangle of `L` is read.
///
/// Gradients: `dB = L^-T dX` and `dL = -tril(dB X^T)` (or `-tril(X dB^T)` when transposed).
public func triangularSolve(_ l: Tensor, _ b: Tensor, transpose: Bool = false) -> Tensor {
    guard l.rank >= 2, b.rank >= 2, l.shape[l.rank - 1] == l.shape[l.rank - 2],
          Array(l.shape.dropLast(2)) == Array(b.shape.dropLast(2)), b.shape[b.rank - 2] == l.shape[l.rank - 1] else {
        return Tensor.failure("triangularSolve", "cannot solve with \(Shape.describe(l.shape)) for \(Shape.describe(b.shape)): need batch + [n, n] and batch + [n, k]", shape: b.shape)
    }
    let n = l.shape[l.rank - 1], k = b.shape[b.rank - 1]
    let batches = Shape.count(Array(l.shape.dropLast(2)))
    let x = Tensor.build(b.shape) { out in
        out.update(from: b.storage.pointer, count: b.count)
        let factor = l.storage.pointer
        for batch in 0..<batches {
            let lb = factor + batch * n * n, xb = out + batch * n * k
            for step in 0..<n {
                let i = transpose ? n - 1 - step : step
                let diagonal = lb[i * n + i]
                for column in 0..<k {
                    var total = xb[i * k + column]
                    if transpose {
                        for j in (i + 1)..<Swift.max(n, i + 1) { total -= lb[j * n + i] * xb[j * k + column] }
                    } else {
                        for j in 0..<i { total -= lb[i * n + j] * xb[j * k + column] }
                    }
                    xb[i * k + column] = total / diagonal
                }
            }
        }
    }
    return x.recorded(inputs: [l, b]) { g, needs in
        let gradientB = triangularSolve(l, g, transpose: !transpose)
        guard needs[0] else { return [nil, gradientB] }
        let outer = transpose ? matmul(x, gradientB, transposeB: true) : matmul(gradientB, x, transposeB: true)
        return [-outer * lowerTriangleMask(n), needs[1] ? gradientB : nil]
    }
}

/// Ones on and below the diagonal of an `n x n` matrix, zeros above.
func lowerTriangleMask(_ n: Int) -> Tensor {
    Tensor(shape: [n, n], scalars: (0..<(n * n)).map { $0 % n <= $0 / n ? 1 : 0 })
}

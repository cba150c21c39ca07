import CKernels
import Foundation
import Latent

/// `latent bench gemm`: float32 matrix-multiply speed of the library's `matmul`.
struct BenchGEMM: Subcommand {
    static let name = "bench gemm"
    static let summary = "matrix-multiply speed in GFLOP/s"
    static let flags: [Flag] = [
        .value("m", "rows of the product, 1...65536 (default 2048)"),
        .value("n", "columns of the product, 1...65536 (default 2048)"),
        .value("k", "inner dimension, 1...65536 (default 2048)"),
        .value("threads", "threads to use, 1...256 (default: all cores)"),
        .toggle("transpose-a", "multiply by the transpose of a stored k x m matrix"),
        .toggle("transpose-b", "multiply by the transpose of a stored n x k matrix"),
        .value("seconds", "seconds to spend measuring, 1...600 (default 1)"),
    ]
    static let usage = """
        Usage: latent bench gemm [--m M] [--n N] [--k K] [--threads T] [--transpose-a] [--transpose-b] [--seconds S] [--json]

        Times C = op(A) op(B) for m x k by k x n float32 matrices with the library's matmul
        and prints the median GFLOP/s over repeated calls.
        """

    let m: Int, n: Int, k: Int, threads: Int
    let transposeA: Bool, transposeB: Bool
    let seconds: Double

    init(arguments: ParsedArguments, models: Models) throws {
        m = try arguments.integer("m", default: 2048, in: 1...65536)
        n = try arguments.integer("n", default: 2048, in: 1...65536)
        k = try arguments.integer("k", default: 2048, in: 1...65536)
        threads = try arguments.integer("threads", default: ComputeThreads.count, in: 1...256)
        transposeA = arguments.has("transpose-a")
        transposeB = arguments.has("transpose-b")
        seconds = Double(try arguments.integer("seconds", default: 1, in: 1...600))
        guard m * k + k * n + m * n <= 1 << 30 else {
            throw UsageError("matrices of \(m)x\(k) and \(k)x\(n) need more than 4 GB; choose smaller --m, --n, --k")
        }
    }

    func run(output: Output) throws -> [String: Any] {
        ComputeThreads.count = threads
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.randomUniform(transposeA ? [k, m] : [m, k], using: &generator)
        let b = Tensor.randomUniform(transposeB ? [n, k] : [k, n], using: &generator)
        let flops = 2 * Double(m) * Double(n) * Double(k)
        let (rate, calls) = medianRate(flops: flops, seconds: seconds) { _ = matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
        let gflops = rate / 1e9
        let kernel = String(cString: latent_sgemm_kernel_name())
        let shape = "\(m)x\(k) by \(k)x\(n)" + (transposeA ? " (A transposed)" : "") + (transposeB ? " (B transposed)" : "")
        output.human(String(format: "gemm %@, %d thread%@, %@ kernel: %.1f GFLOP/s (median of %d calls)", shape, threads, threads == 1 ? "" : "s", kernel, gflops, calls))
        return ["gflops": (gflops * 10).rounded() / 10, "m": m, "n": n, "k": k, "threads": threads,
                "transpose_a": transposeA, "transpose_b": transposeB, "kernel": kernel, "calls": calls]
    }
}

/// The median FLOP/s of `multiply` (`flops` each call) over `seconds` of calls, at least three,
/// after one call to warm up; and the number of calls timed.
func medianRate(flops: Double, seconds: Double, _ multiply: () -> Void) -> (rate: Double, calls: Int) {
    multiply()
    var rates: [Double] = []
    let start = Date()
    while Date().timeIntervalSince(start) < seconds || rates.count < 3 {
        let begin = DispatchTime.now().uptimeNanoseconds
        multiply()
        rates.append(flops / (Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9))
    }
    return (rates.sorted()[rates.count / 2], rates.count)
}

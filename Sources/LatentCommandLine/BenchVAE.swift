import CKernels
import Dispatch
import Foundation
import Latent
import TensorCore

/// `latent bench vae`: where a VAE epoch's time goes, beside the machine's GEMM floor.
struct BenchVAE: Subcommand {
    static let name = "bench vae"
    static let summary = "VAE training speed: images per second, time in matrix products, ratio to the GEMM floor"
    static let flags: [Flag] = [
        .value("model", "a binary-image model (see `latent models`): bernoulli-vae (default), or burda-vae for the IWAE paper's setting"),
        .value("data", "a folder of MNIST IDX files (default: the bundled images)"),
        .value("binarize", "threshold (default) or stochastic (each minibatch drawn anew)"),
        .value("batch-size", "rows per minibatch, 1...100000 (default: the model's, 128 for bernoulli-vae, 20 for burda-vae)"),
        .value("latent-dim", "dimension of the latent z, 1...4096 (default: the model's)"),
        .value("hidden", "hidden units of each layer of the decoder and of the encoder, 1...65536 (default: the model's)"),
        .value("threads", "threads, 1...256 (default: all cores)"),
    ]
    static let usage = """
        Usage: latent bench vae [--model NAME] [--data PATH] [--binarize threshold|stochastic] [--batch-size M] [--latent-dim D] [--hidden H] [--threads T] [--json]

        Trains a binary-image VAE two epochs and times the second: images per second, the share
        of it spent in matrix products (and their GFLOP/s), and the epoch against its floor, the
        time its matrix products would take at the GEMM speed of 2048^3 on this machine.
        """

    let arguments: ParsedArguments
    let models: Models

    func run(output: Output) throws -> [String: Any] {
        ComputeThreads.count = try arguments.integer("threads", default: ComputeThreads.count, in: 1...256)
        let model = try models.named(arguments.text("model") ?? "bernoulli-vae")
        guard model.data == .binaryImages else { throw UsageError("'\(model.name)' is not a binary-image model; `bench vae` times those") }
        let batchSize = try arguments.integer("batch-size", default: model.batchSize, in: 1...100_000)
        let stochastic = try arguments.choice("binarize", ["threshold", "stochastic"], default: "threshold") == "stochastic"
        var data = try loadData(arguments.text("data"), for: model, output: output)
        if !stochastic { data.train = data.train.thresholded() }
        let settings = try model.settings(dataSize: data.train.rowSize, of: data.source, from: arguments)
        if let problem = settings.firstProblem(for: model) { throw UsageError("model '\(model.name)' does not take these settings: \(problem)") }
        let vi = Amortized(model.build(settings), options: model.compilerOptions(settings))
        var options = TrainingOptions(epochs: 2, batchSize: batchSize, optimizer: .adam(learningRate: 1e-3))
        options.onEpoch = { report in
            if report.epoch == 1 { (MatrixMultiplyMeter.nanoseconds, MatrixMultiplyMeter.multiplyAdds, MatrixMultiplyMeter.isMeasuring) = (0, 0, true) }
        }
        defer { MatrixMultiplyMeter.isMeasuring = false }
        let transform: ((Tensor, inout RandomGenerator) -> Tensor)? = stochastic ? { Binarization.stochastic.apply($0, using: &$1) } : nil
        let reports = try vi.fit(data.train, options: options, transform: transform)
        MatrixMultiplyMeter.isMeasuring = false
        let seconds = reports.last!.seconds
        let matmulSeconds = Double(MatrixMultiplyMeter.nanoseconds) / 1e9
        let flops = 2 * Double(MatrixMultiplyMeter.multiplyAdds)
        let floorRate = gemmRate(side: 2048)
        let floorSeconds = flops / floorRate
        let imagesPerSecond = Double(data.train.rowCount) / seconds
        output.human(String(format: "%@ (%@), batch %d, %@ binarization, %d thread%@, %@ kernel: %.2f s per epoch of %d images (%.0f images/s)",
                            model.name, model.options.map { "--\($0.name) \(settings[$0.name])" }.joined(separator: " "), batchSize,
                            stochastic ? "stochastic" : "threshold", ComputeThreads.count, ComputeThreads.count == 1 ? "" : "s",
                            String(cString: latent_sgemm_kernel_name()), seconds, data.train.rowCount, imagesPerSecond))
        output.human(String(format: "matrix products: %.1f GFLOP counted as dense (the binarized images' products skip most of theirs) in %.2f s (%.0f%% of the epoch, %.0f GFLOP/s); everything else %.2f s",
                            flops / 1e9, matmulSeconds, 100 * matmulSeconds / seconds, flops / matmulSeconds / 1e9, seconds - matmulSeconds))
        output.human(String(format: "floor of the dense products: %.2f s at %.0f GFLOP/s (GEMM 2048^3); the epoch takes %.1fx that floor", floorSeconds, floorRate / 1e9, seconds / floorSeconds))
        return ["seconds_per_epoch": seconds, "images_per_second": imagesPerSecond, "matmul_seconds": matmulSeconds, "matmul_share": matmulSeconds / seconds,
                "matmul_gflops": flops / matmulSeconds / 1e9, "gflop": flops / 1e9, "floor_seconds": floorSeconds, "ratio_to_floor": seconds / floorSeconds]
    }

    /// The median FLOP/s of `side`^3 products over about half a second.
    func gemmRate(side: Int) -> Double {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.randomUniform([side, side], using: &generator), b = Tensor.randomUniform([side, side], using: &generator)
        return medianRate(flops: 2 * pow(Double(side), 3), seconds: 0.5) { _ = matmul(a, b) }.rate
    }
}

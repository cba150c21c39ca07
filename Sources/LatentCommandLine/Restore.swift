import Foundation
import Latent

/// Marginal inference with a trained image model (Kingma & Welling's third use): fill in or
/// clean up images by alternating the encoder's mean and the decoder's mean, keeping the
/// pixels that are known.
struct Restoration {
    let restored: Restored
    let imageShape: [Int]

    init(_ restored: Restored) throws {
        guard restored.model.data != .points else { throw UsageError("'\(restored.model.name)' is not an image model") }
        self.restored = restored
        imageShape = try restored.imageShape()
    }

    /// `images` with the pixels where `known` is 0 re-estimated `rounds` times from the model.
    func fill(_ images: Tensor, known: Tensor, rounds: Int = 20) throws -> Tensor {
        let pictures = Pictures(inference: restored.inference, dataSize: restored.settings.dataSize, imageShape: imageShape)
        var current = select(known, images, Tensor(0.5))
        let progress = WorkProgress("restoring \(images.shape[0]) images", total: rounds)
        for round in 0..<rounds {
            guard let q = try restored.inference.posterior(current).values.first else { break }
            let reconstruction = try pictures.decoderMeans(q.mean)
            current = select(known, images, reconstruction)
            progress.update(round + 1)
        }
        progress.finish()
        return current
    }

    /// For binary-image models, the most probable image (pixel probability above one half).
    func mostProbable(_ means: Tensor) -> Tensor {
        restored.model.data == .binaryImages ? (means .> Tensor(0.5)) : means
    }

    /// Writes rows of originals, corrupted images and restorations to `path` (or the given file).
    func picture(_ rows: [Tensor], to path: String) throws {
        let count = rows[0].shape[0]
        try PNGImage.grid(Tensor.concatenate(rows), imageShape: imageShape, columns: count, invert: restored.model.data == .binaryImages).write(to: path)
    }
}

/// The mean of `values`, in Double.
func average(_ values: [Float]) -> Double { values.map(Double.init).reduce(0, +) / Double(Swift.max(values.count, 1)) }

/// Mean absolute pixel error per image between `a` and `b`, counting where `weight` is 1.
func meanError(_ a: Tensor, _ b: Tensor, weight: Tensor) -> [Float] {
    let errors = (abs(a - b) * weight).sum(axis: 1) / clamp(weight.expanded(to: a.shape).sum(axis: 1), min: 1)
    return errors.scalars
}

/// `latent inpaint CHECKPOINT`: fills masked parts of test images.
struct Inpaint: Subcommand {
    static let name = "inpaint"
    static let summary = "fill the masked part of test images with a trained image model"
    static let flags: [Flag] = [
        .value("data", "images to use (default: the training data's test rows)"),
        .value("mask", "half, block or random (default half)"),
        .value("n", "images (default 10)"),
        .value("out", "PNG file (default inpaint.png)"),
    ]
    static let positionals = ["CHECKPOINT"]
    static let usage = "Usage: latent inpaint CHECKPOINT [--data PATH] [--mask half|block|random] [--n N] [--out FILE.png] [--json]"

    let arguments: ParsedArguments
    let models: Models

    init(arguments: ParsedArguments, models: Models) throws {
        self.arguments = arguments
        self.models = models
        _ = try arguments.choice("mask", ["half", "block", "random"], default: "half")
    }

    func run(output: Output) throws -> [String: Any] {
        let restoration = try Restoration(try Restored(arguments.positional[0], models: models))
        let data = try restoration.restored.data(arguments.text("data"))
        let test = data.test
        let count = try arguments.integer("n", default: Swift.min(10, test.shape[0]), in: 1...test.shape[0])
        let images = test.slice(axis: 0, 0..<count)
        let (height, width) = (restoration.imageShape[0], restoration.imageShape[1])
        let mask = try arguments.choice("mask", ["half", "block", "random"], default: "half")
        var generator = RandomGenerator(seed: 0)
        let known: Tensor
        switch mask {
        case "block":
            known = Tensor((0..<(height * width)).map { i in abs(i / width - height / 2) < height / 4 && abs(i % width - width / 2) < width / 4 ? 0 : 1 })
        case "random":
            known = Tensor.randomBernoulli(probabilities: Tensor.full([count, height * width], 0.5), using: &generator)
        default:
            known = Tensor((0..<(height * width)).map { $0 / width < height / 2 ? 1 : 0 })
        }
        let knownRows = known.expanded(to: images.shape)
        let filled = restoration.mostProbable(try restoration.fill(images, known: knownRows))
        let errors = meanError(filled, images, weight: 1 - knownRows)
        let path = arguments.text("out") ?? "inpaint.png"
        try restoration.picture([images, select(knownRows, images, Tensor(0.5)), filled], to: path)
        let mean = average(errors)
        let half = average(meanError(Tensor.full(images.shape, 0.5), images, weight: 1 - knownRows))
        let pixelMeans = average(meanError(data.train.mean(axis: 0).expanded(to: images.shape), images, weight: 1 - knownRows))
        output.human(String(format: "wrote %@: originals, masked (%@), filled in; mean absolute error on the missing pixels %.4f (filling with 0.5: %.4f, with each pixel's training mean: %.4f)", path, mask, mean, half, pixelMeans))
        return ["path": path, "mean_error": mean, "errors": errors.map(Double.init), "mean_error_fill_half": half, "mean_error_pixel_means": pixelMeans]
    }
}

/// `latent denoise CHECKPOINT`: restores corrupted test images.
struct Denoise: Subcommand {
    static let name = "denoise"
    static let summary = "restore test images whose pixels were flipped at random"
    static let flags: [Flag] = [
        .value("data", "images to use (default: the training data's test rows)"),
        .value("noise", "probability of flipping each pixel (default 0.1)"),
        .value("n", "images (default 10)"),
        .value("out", "PNG file (default denoise.png)"),
    ]
    static let positionals = ["CHECKPOINT"]
    static let usage = "Usage: latent denoise CHECKPOINT [--data PATH] [--noise P] [--n N] [--out FILE.png] [--json]"

    let arguments: ParsedArguments
    let models: Models

    func run(output: Output) throws -> [String: Any] {
        let restoration = try Restoration(try Restored(arguments.positional[0], models: models))
        let test = try restoration.restored.testData(arguments.text("data"))
        let count = try arguments.integer("n", default: Swift.min(10, test.shape[0]), in: 1...test.shape[0])
        let noise = Float(try arguments.number("noise", default: 0.1, in: 0...1))
        let images = test.slice(axis: 0, 0..<count)
        var generator = RandomGenerator(seed: 0)
        let flips = Tensor.randomBernoulli(probabilities: Tensor.full(images.shape, noise), using: &generator)
        let noisy = images + flips * (1 - 2 * images)
        let pictures = Pictures(inference: restoration.restored.inference, dataSize: restoration.restored.settings.dataSize, imageShape: restoration.imageShape)
        guard let q = try restoration.restored.inference.posterior(noisy).values.first else { throw UsageError("the guide has no latent site") }
        let cleaned = restoration.mostProbable(try pictures.decoderMeans(q.mean))
        let errors = meanError(cleaned, images, weight: Tensor.ones(images.shape))
        let before = meanError(noisy, images, weight: Tensor.ones(images.shape))
        let path = arguments.text("out") ?? "denoise.png"
        try restoration.picture([images, noisy, cleaned], to: path)
        let mean = errors.map(Double.init).reduce(0, +) / Double(errors.count)
        output.human(String(format: "wrote %@: originals, %.0f%% of pixels flipped, restored; mean absolute error %.4f (noisy %.4f)", path, Double(noise * 100), mean, before.map(Double.init).reduce(0, +) / Double(before.count)))
        return ["path": path, "mean_error": mean, "noisy_error": before.map(Double.init).reduce(0, +) / Double(before.count)]
    }
}

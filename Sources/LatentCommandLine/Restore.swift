import Foundation
import Latent

/// Marginal inference with a trained image model (Kingma & Welling's third use): fill in or
/// clean up images. `fill` is the pseudo-Gibbs heuristic (the encoder's mean and the decoder's
/// mean in turn, the known pixels kept); `inpaint` conditions the model on the known pixels by
/// importance sampling and compares the two.
struct Restoration {
    let restored: Restored
    let imageShape: [Int]

    init(_ restored: Restored) throws {
        guard restored.model.data != .points else { throw UsageError("'\(restored.model.name)' is not an image model") }
        self.restored = restored
        try restored.compile(on: restored.zeroRows)
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
        .value("mask", "half (the lower half missing), block (a centre block) or random (each pixel with probability 1/2) (default half)"),
        .value("n", "images, 1 to the test rows there are (default 10)"),
        .value("proposals", "importance samples per image, 1...100000 (default 1000)"),
        .value("draws", "completions drawn per image, 1...10 (default 3)"),
        .value("out", "PNG file (default inpaint.png)"),
    ]
    static let positionals = ["CHECKPOINT"]
    static let usage = """
        Usage: latent inpaint CHECKPOINT [--data PATH] [--mask half|block|random] [--n N] [--proposals K] [--draws D] [--out FILE.png] [--json]

        Conditions the model on the known pixels of held-out images and infers the missing ones
        by importance sampling with the encoder as proposal (Mattei & Frellsen, 2018), fed the
        pseudo-Gibbs fill as a first guess. The picture's rows: originals, masked, D completions
        drawn from the conditional, its mean, and the pseudo-Gibbs fill. Reports, on the missing
        pixels, the mean absolute error and the log-likelihood of the true pixels for the
        conditional, pseudo-Gibbs and each pixel's training mean (and the error of filling with 0.5).
        """

    let arguments: ParsedArguments
    let models: Models

    init(arguments: ParsedArguments, models: Models) throws {
        self.arguments = arguments
        self.models = models
        _ = try arguments.choice("mask", ["half", "block", "random"], default: "half")
    }

    func run(output: Output) throws -> [String: Any] {
        let restoration = try Restoration(try Restored(arguments.positional[0], models: models))
        let path = try restoration.restored.output(arguments.text("out") ?? "inpaint.png", flag: "out", data: arguments.text("data"))
        let data = try restoration.restored.data(arguments.text("data"))
        let count = try arguments.integer("n", default: Swift.min(10, data.test.rowCount), in: 1...data.test.rowCount)
        let images = try data.test.rows(0..<count)
        let (height, width) = (restoration.imageShape[0], restoration.imageShape[1])
        let mask = try arguments.choice("mask", ["half", "block", "random"], default: "half")
        var generator = RandomGenerator(seed: 0)
        let known: Tensor
        switch mask {
        case "block":
            let (halfHeight, halfWidth) = (Swift.max(1, height / 4), Swift.max(1, width / 4))
            known = Tensor((0..<(height * width)).map { i in abs(i / width - height / 2) < halfHeight && abs(i % width - width / 2) < halfWidth ? 0 : 1 })
        case "random":
            known = Tensor.randomBernoulli(probabilities: Tensor.full([count, height * width], 0.5), using: &generator)
        default:
            known = Tensor((0..<(height * width)).map { $0 / width < height / 2 ? 1 : 0 })
        }
        let knownRows = known.expanded(to: images.shape)
        let missing = 1 - knownRows
        let knownCounts = knownRows.sum(axis: 1).scalars
        if let image = knownCounts.firstIndex(where: { $0 == 0 || Int($0) == height * width }) {
            throw UsageError("--mask \(mask) leaves \(knownCounts[image] == 0 ? "no pixel known" : "no pixel missing") in test image \(image) (\(height) x \(width) pixels); choose another --mask")
        }
        let proposals = try arguments.integer("proposals", default: 1000, in: 1...100_000)
        let draws = try arguments.integer("draws", default: 3, in: 1...10)
        guard proposals * count * images.shape[1] <= 1 << 28 else {
            throw UsageError("\(proposals) proposals for \(count) images of \(images.shape[1]) pixels need more than 1 GB; give fewer --proposals or --n")
        }
        let pseudoGibbs = try restoration.fill(images, known: knownRows)
        let conditional = try restoration.restored.inference.conditionalCompletion(images, observed: knownRows, proposalInput: pseudoGibbs, proposals: proposals, draws: draws)
        let filled = restoration.mostProbable(conditional.mean)
        let errors = meanError(filled, images, weight: missing)
        let completions = (0..<draws).map { restoration.mostProbable(conditional.completions.slice(axis: 0, $0..<($0 + 1)).reshaped(to: images.shape)) }
        try restoration.picture([images, select(knownRows, images, Tensor(0.5))] + completions + [filled, restoration.mostProbable(pseudoGibbs)], to: path)
        let mean = average(errors)
        let gibbs = average(meanError(restoration.mostProbable(pseudoGibbs), images, weight: missing))
        let half = average(meanError(Tensor.full(images.shape, 0.5), images, weight: missing))
        let pixelMeans = try data.train.tensor().mean(axis: 0).expanded(to: images.shape)
        let pixelMeanError = average(meanError(pixelMeans, images, weight: missing))
        // log p(true missing pixels) per image: the conditional's estimate; pseudo-Gibbs's decoder
        // at its final encoder mean; for binary images, Bernoulli(each pixel's training mean).
        let pictures = Pictures(inference: restoration.restored.inference, dataSize: restoration.restored.settings.dataSize, imageShape: restoration.imageShape)
        guard let q = try restoration.restored.inference.posterior(pseudoGibbs).values.first else { throw UsageError("the guide has no latent site") }
        let gibbsLogLikelihood = average(((try pictures.decoder(q.mean).elementwiseLogProb(images)).reshaped(to: images.shape) * missing).sum(axis: 1).scalars)
        let conditionalLogLikelihood = average(conditional.missingLogLikelihood.scalars)
        var figures: [String: Any] = ["path": path, "mean_error": mean, "errors": errors.map(Double.init), "mean_error_pseudo_gibbs": gibbs, "mean_error_fill_half": half,
                                      "mean_error_pixel_means": pixelMeanError, "missing_log_likelihood": conditionalLogLikelihood,
                                      "missing_log_likelihood_pseudo_gibbs": gibbsLogLikelihood, "effective_sample_size": average(conditional.effectiveSampleSize.scalars)]
        var line = String(format: "wrote %@: originals, masked (%@), %d completions, their mean, pseudo-Gibbs. On the missing pixels: mean absolute error %.4f (pseudo-Gibbs %.4f, 0.5: %.4f, pixel means: %.4f); log-likelihood of the true pixels per image %.2f (pseudo-Gibbs %.2f",
                          path, mask, draws, mean, gibbs, half, pixelMeanError, conditionalLogLikelihood, gibbsLogLikelihood)
        if restoration.restored.model.data == .binaryImages {
            let p = clamp(pixelMeans, min: 1e-4, max: 1 - 1e-4)
            let bernoulli = images * log(p) + (1 - images) * log(1 - p)
            let meansLogLikelihood = average((bernoulli * missing).sum(axis: 1).scalars)
            figures["missing_log_likelihood_pixel_means"] = meansLogLikelihood
            line += String(format: ", pixel means %.2f", meansLogLikelihood)
        }
        output.human(line + ")")
        return figures
    }
}

/// The most probable clean binary image given `noisy`, each pixel flipped with probability
/// `noise`: the model observes `x~_d ~ Bernoulli(m_d (1 - noise) + (1 - m_d) noise)` with
/// `m = decoder(z)`; `z` is weighted by importance sampling with the encoder as proposal, and
/// each clean pixel's probability given `z` and its noisy value is averaged under the weights.
func conditionallyDenoised(_ noisy: Tensor, noise: Float, restoration: Restoration, proposals: Int = 1000) throws -> Tensor {
    let draws = try restoration.restored.inference.importanceProposals(noisy, proposalInput: noisy, proposals: proposals)
    var logWeights: [Tensor] = [], clean: [Tensor] = []
    for draw in draws {
        let m = clamp(draw.observed.mean.reshaped(to: noisy.shape), min: 1e-6, max: 1 - 1e-6)
        let ifOne = noisy * (1 - noise) + (1 - noisy) * noise, ifZero = noisy * noise + (1 - noisy) * (1 - noise)
        let seen = m * ifOne + (1 - m) * ifZero
        logWeights.append(draw.logPriorOverProposal + log(seen).sum(axis: 1))
        clean.append(m * ifOne / seen)
    }
    let stacked = Tensor.stack(logWeights)
    let weights = exp(stacked - stacked.logSumExp(axis: 0))
    return restoration.mostProbable((weights.unsqueezed(axis: -1) * Tensor.stack(clean)).sum(axis: 0))
}

/// `latent denoise CHECKPOINT`: restores corrupted test images.
struct Denoise: Subcommand {
    static let name = "denoise"
    static let summary = "restore test images whose pixels were flipped at random"
    static let flags: [Flag] = [
        .value("data", "images to use (default: the training data's test rows)"),
        .value("noise", "probability of flipping each pixel, 0...1, for binary images strictly between 0 and 0.5 (default 0.1)"),
        .value("n", "images, 1 to the test rows there are (default 10)"),
        .value("out", "PNG file (default denoise.png)"),
    ]
    static let positionals = ["CHECKPOINT"]
    static let usage = "Usage: latent denoise CHECKPOINT [--data PATH] [--noise P] [--n N] [--out FILE.png] [--json]"

    let arguments: ParsedArguments
    let models: Models

    func run(output: Output) throws -> [String: Any] {
        let restoration = try Restoration(try Restored(arguments.positional[0], models: models))
        let path = try restoration.restored.output(arguments.text("out") ?? "denoise.png", flag: "out", data: arguments.text("data"))
        let test = try restoration.restored.testData(arguments.text("data"))
        let count = try arguments.integer("n", default: Swift.min(10, test.shape[0]), in: 1...test.shape[0])
        let noise = Float(try arguments.number("noise", default: 0.1, in: 0...1))
        // The conditioned restoration weighs each pixel by how likely it was flipped.
        if restoration.restored.model.data == .binaryImages, !(noise > 0 && noise < 0.5) {
            throw UsageError("--noise \(noise): for binary images it must lie strictly between 0 and 0.5 (at 0 nothing is flipped, at 0.5 a noisy pixel says nothing about the image, and above 0.5 flipping every pixel back is the better guess)")
        }
        let images = test.slice(axis: 0, 0..<count)
        var generator = RandomGenerator(seed: 0)
        let flips = Tensor.randomBernoulli(probabilities: Tensor.full(images.shape, noise), using: &generator)
        let noisy = images + flips * (1 - 2 * images)
        let pictures = Pictures(inference: restoration.restored.inference, dataSize: restoration.restored.settings.dataSize, imageShape: restoration.imageShape)
        guard let q = try restoration.restored.inference.posterior(noisy).values.first else { throw UsageError("the guide has no latent site") }
        let reconstructed = restoration.mostProbable(try pictures.decoderMeans(q.mean))
        let everywhere = Tensor.ones(images.shape)
        let before = average(meanError(noisy, images, weight: everywhere))
        let reconstructionError = average(meanError(reconstructed, images, weight: everywhere))
        var rows = [images, noisy, reconstructed]
        var figures: [String: Any] = ["noisy_error": before, "mean_error_reconstruction": reconstructionError]
        var line = String(format: "%.0f%% of pixels flipped; mean absolute error noisy %.4f, reconstructed %.4f", Double(noise * 100), before, reconstructionError)
        if restoration.restored.model.data == .binaryImages {
            let chunk = Swift.max(1, (1 << 27) / (1000 * images.shape[1]))
            let cleaned = Tensor.concatenate(try stride(from: 0, to: count, by: chunk).map { start in
                try conditionallyDenoised(noisy.slice(axis: 0, start..<Swift.min(start + chunk, count)), noise: noise, restoration: restoration)
            })
            let error = average(meanError(cleaned, images, weight: everywhere))
            rows.append(cleaned)
            figures["mean_error"] = error
            line += String(format: ", conditioned on the noisy image %.4f", error)
        } else {
            figures["mean_error"] = reconstructionError
        }
        try restoration.picture(rows, to: path)
        figures["path"] = path
        output.human("wrote \(path): originals, noisy, reconstructed" + (rows.count == 4 ? ", conditioned" : "") + "; " + line)
        return figures
    }
}

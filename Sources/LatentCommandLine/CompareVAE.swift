import Foundation
import Latent
import Plot

/// `latent compare vae`: a plain autoencoder, the VAE and beta-VAEs trained alike on the same
/// images, set side by side (reconstructions and samples) with a table of figures.
struct CompareVAE: Subcommand {
    static let name = "compare vae"
    static let summary = "autoencoder vs VAE vs beta-VAEs on the same images: pictures and figures"
    static let flags: [Flag] = [
        .value("model", "an image model (default bernoulli-vae)"),
        .value("data", "images: a folder of MNIST IDX files or an .npy file (default: the model's bundled data)"),
        .value("epochs", "passes over the training data for each variant, 1...10000 (default 5)"),
        .value("betas", "the beta-VAEs' weights of the latent terms, comma-separated, each 0.01...100 (default 0.5,4)"),
        .value("latent-dim", "dimension of the latent z, 1...4096 (default 20)"),
        .value("hidden", "hidden units of the decoder and of the encoder, 1...65536 (default 400)"),
        .value("seed", "random seed, 0...2147483647 (default 0)"),
        .value("out", "HTML page of the pictures and the table (default vae-comparison.html)"),
    ]
    static let usage = """
        Usage: latent compare vae [--model NAME] [--data PATH] [--epochs N] [--betas B1,B2] [--latent-dim D] [--hidden H] [--seed S] [--out FILE.html] [--json]

        Trains, on the same images with the same settings: a plain autoencoder (z a point
        estimate, no latent term: beta 0), the VAE (beta 1) and beta-VAEs (the latent terms
        weighted by each beta). Writes one page with 12 held-out images above each variant's
        reconstructions, 12 samples from each variant's prior, and per variant the held-out
        ELBO (where defined), the reconstruction error and the KL and activity of each
        latent coordinate (active units).
        """

    let arguments: ParsedArguments
    let models: Models

    /// One trained variant and its figures.
    struct Variant {
        let name: String
        let beta: Float
        let isAutoencoder: Bool
        var heldOutELBO: Double?
        var reconstructionError = 0.0
        var activity: LatentActivity?
        var reconstructions: Tensor?
        var samples: Tensor?
    }

    func run(output: Output) throws -> [String: Any] {
        let path = try outputFile(arguments.text("out") ?? "vae-comparison.html", flag: "out", reading: [arguments.text("data")])
        let model = try models.named(arguments.text("model") ?? "bernoulli-vae")
        guard model.data != .points else { throw UsageError("'\(model.name)' is not an image model; `compare vae` compares image models") }
        let epochs = try arguments.integer("epochs", default: 5, in: 1...10_000)
        let seed = UInt64(try arguments.integer("seed", default: 0, in: 0...Int(Int32.max)))
        let betas = try (arguments.text("betas") ?? "0.5,4").split(separator: ",").map { text -> Float in
            guard let beta = Float(text.trimmingCharacters(in: .whitespaces)), beta >= 0.01, beta <= 100 else {
                throw UsageError("flag '--betas' of 'compare vae' needs numbers from 0.01 to 100, comma-separated, got '\(text)'")
            }
            return beta
        }
        // beta 1 is the VAE, trained anyway.
        if let repeated = betas.indices.first(where: { betas[$0] == 1 || betas[..<$0].contains(betas[$0]) }) {
            throw UsageError("flag '--betas' of 'compare vae' names beta \(String(format: "%g", betas[repeated])) \(betas[repeated] == 1 ? "(the VAE, which the comparison trains anyway)" : "twice"); give each beta once")
        }
        var data = try loadData(arguments.text("data"), for: model, output: output)
        guard let imageShape = data.imageShape else { throw UsageError("the data of \(data.source) are not images") }
        if model.data == .binaryImages { data = data.thresholded() }
        var values: [String: Int] = [:]
        for option in model.options {
            let fallback = ["latent-dim": 20, "hidden": 400][option.name] ?? option.defaultValue(data.train.rowSize)
            values[option.name] = try arguments.integer(option.name, default: fallback, in: option.range)
        }
        let settings = ModelSettings(dataSize: data.train.rowSize, values: values)
        if let problem = settings.firstProblem(for: model) { throw UsageError("model '\(model.name)' does not take these settings: \(problem)") }
        var variants = [Variant(name: "autoencoder", beta: 0, isAutoencoder: true), Variant(name: "VAE (beta 1)", beta: 1, isAutoencoder: false)]
        variants += betas.map { Variant(name: "beta-VAE (beta \(String(format: "%g", $0)))", beta: $0, isAutoencoder: false) }
        let shown = try data.test.rows(0..<Swift.min(12, data.test.rowCount))
        let measured = try data.test.rows(0..<Swift.min(1_000, data.test.rowCount))
        let example = try data.train.rows(0..<Swift.min(128, data.train.rowCount))
        let plan = try Amortized(model.build(settings), options: model.compilerOptions(settings), seed: seed).compile(example: example, datasetSize: data.train.rowCount)
        let localSites = Set(plan.sites.filter { $0.plate != nil && $0.isGuided }.map(\.name))
        let progress = WorkProgress("training \(variants.count) variants", total: variants.count)
        for index in variants.indices {
            var compilerOptions = model.compilerOptions(settings)
            if variants[index].isAutoencoder { compilerOptions.pointEstimates = localSites }
            let trained = Amortized(model.build(settings), options: compilerOptions, seed: seed)
            _ = try trained.compile(example: example, datasetSize: data.train.rowCount)
            var options = TrainingOptions(epochs: epochs, batchSize: model.batchSize, optimizer: .adam(learningRate: model.learningRate))
            options.seed = seed
            options.beta = variants[index].beta
            try trained.fit(data.train, options: options)
            let pictures = Pictures(inference: trained, dataSize: settings.dataSize, imageShape: imageShape)
            let rebuilt = try pictures.reconstructionMeans(measured)
            variants[index].reconstructionError = Double(abs(rebuilt - measured).mean().scalar)
            variants[index].reconstructions = rebuilt.slice(axis: 0, 0..<shown.shape[0])
            variants[index].samples = try pictures.sampleMeans(12, seed: seed)
            variants[index].activity = try trained.latentActivity(measured).first
            if !variants[index].isAutoencoder { variants[index].heldOutELBO = Double(try trained.elbo(measured, particles: 10)) / Double(measured.shape[0]) }
            progress.update(index + 1)
        }
        progress.finish()
        for variant in variants {
            let elbo = variant.heldOutELBO.map { String(format: "%.2f", $0) } ?? "-"
            let active = variant.activity.map { "\($0.activeCoordinates) of \($0.activity.count)" } ?? "-"
            output.human(String(format: "%@  held-out ELBO %@  reconstruction error %.4f  active units %@", variant.name.padding(toLength: 24, withPad: " ", startingAt: 0), elbo, variant.reconstructionError, active))
        }
        try writeText(page(variants, shown: shown, imageShape: imageShape, invert: model.data == .binaryImages, model: model, data: data.source, epochs: epochs), to: path)
        output.human("wrote \(path)")
        return ["path": path, "variants": variants.map { variant -> [String: Any] in
            var entry: [String: Any] = ["name": variant.name, "beta": Double(variant.beta), "reconstruction_error": variant.reconstructionError]
            if let elbo = variant.heldOutELBO { entry["test_elbo"] = elbo }
            if let activity = variant.activity { entry["active_units"] = activity.activeCoordinates }
            if let kl = variant.activity?.klPerCoordinate { entry["kl"] = kl.reduce(0, +) }
            return entry
        }]
    }

    /// The page: the table, then the reconstructions and the samples, a labelled row each.
    func page(_ variants: [Variant], shown: Tensor, imageShape: [Int], invert: Bool, model: CommandModel, data: String, epochs: Int) -> String {
        func row(_ title: String, _ images: Tensor?) -> String {
            guard let images else { return "" }
            let picture = PNGImage.grid(images, imageShape: imageShape, columns: images.shape[0], invert: invert)
            return "<tr><th>\(escapeXML(title))</th><td><img alt=\"\(escapeXML(title))\" src=\"data:image/png;base64,\(Data(picture.encoded()).base64EncodedString())\"></td></tr>"
        }
        var page = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>autoencoder vs VAE vs beta-VAE</title>",
                    "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{padding:3px 12px 3px 0;text-align:left;vertical-align:middle}",
                    "td.n{text-align:right;font-family:monospace}img{image-rendering:pixelated}</style></head><body>",
                    "<h1>Autoencoder vs VAE vs beta-VAE</h1>",
                    "<p>\(escapeXML(model.name)) on \(escapeXML(data)), \(epochs) epochs each, the same settings and seed. The autoencoder learns z as a point (no latent term); the beta-VAEs weight the latent terms by beta. Figures on up to 1000 held-out images.</p>",
                    "<table><tr><th>variant</th><th>held-out ELBO per image</th><th>reconstruction error (mean |x - x&#770;|)</th><th>KL, sum over coordinates (nats)</th><th>active units</th></tr>"]
        for variant in variants {
            let elbo = variant.heldOutELBO.map { String(format: "%.2f", $0) } ?? "not defined"
            let kl = variant.activity?.klPerCoordinate.map { String(format: "%.2f", $0.reduce(0, +)) } ?? "-"
            let active = variant.activity.map { "\($0.activeCoordinates) of \($0.activity.count)" } ?? "-"
            page.append("<tr><td>\(escapeXML(variant.name))</td><td class=\"n\">\(elbo)</td><td class=\"n\">\(String(format: "%.4f", variant.reconstructionError))</td><td class=\"n\">\(kl)</td><td class=\"n\">\(active)</td></tr>")
        }
        page.append("</table><h2>KL(q(z_i | x) || p(z_i)) of each latent coordinate, nats (activity in brackets)</h2><table>")
        for variant in variants {
            guard let activity = variant.activity else { continue }
            let cells = activity.activity.indices.map { index in
                let kl = activity.klPerCoordinate.map { String(format: "%.2f", $0[index]) } ?? "-"
                return "<td class=\"n\">\(kl) (\(String(format: "%.2f", activity.activity[index])))</td>"
            }
            page.append("<tr><td>\(escapeXML(variant.name))</td>" + cells.joined() + "</tr>")
        }
        page.append("</table><h2>Reconstructions of held-out images</h2><table>")
        page.append(row("originals", shown))
        for variant in variants { page.append(row(variant.name, variant.reconstructions)) }
        page.append("</table><h2>Samples: the decoder's means at draws of the prior N(0, I)</h2><table>")
        for variant in variants { page.append(row(variant.name, variant.samples)) }
        page.append("</table></body></html>")
        return page.joined(separator: "\n") + "\n"
    }
}

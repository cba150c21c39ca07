import Foundation
import Latent

/// `latent compare gmm`: the amortized posterior beside the exact one and beside EM.
struct CompareGMM: Subcommand {
    static let name = "compare gmm"
    static let summary = "amortized vs exact posterior vs EM on a Gaussian mixture"
    static let flags: [Flag] = [
        .value("data", "a .csv or .npy file of points (default: the bundled synthetic mixture of 3 Gaussians in 2-D)"),
        .value("columns", "the columns of a CSV file to use, comma-separated (default: its numeric columns)"),
        .value("components", "mixture components, in the range of the model's --components (default 3)"),
        .value("steps", "Adam steps at batch 256, 1...1000000, rounded up to whole passes over the data (default 3000)"),
        .value("seed", "random seed, 0...2147483647 (default 0)"),
        .value("out", "SVG picture of both posteriors and the table (default gmm-comparison.svg)"),
    ]
    static let usage = """
        Usage: latent compare gmm [--data FILE.csv] [--columns A,B] [--components K] [--steps N] [--seed S] [--out FILE.svg] [--json]

        Fits the shipped Gaussian mixture (a categorical head for each point's component) by AEVB
        and sets its amortized posterior beside the exact posterior of the same parameters (by
        enumeration) and beside EM's fit (the best of ten starts): mean KL(q || p), total
        variation, agreement of the most probable component, log-likelihood per point of both
        fits, the ELBO and the amortization gap. It draws both posteriors side by side: on the
        data's own axes for 2-D data, in their first two principal directions for more columns.
        """

    let arguments: ParsedArguments
    let models: Models

    func run(output: Output) throws -> [String: Any] {
        let path = try outputFile(arguments.text("out") ?? "gmm-comparison.svg", flag: "out", reading: [arguments.text("data")])
        let model = try models.named("gmm")
        guard let componentOption = model.options.first(where: { $0.name == "components" }) else {
            throw UsageError("model 'gmm' of this tool has no --components option; `compare gmm` needs the shipped Gaussian mixture")
        }
        let data = try loadData(arguments.text("data"), for: model, columns: columnList(arguments.text("columns")), output: output)
        let x = Tensor.concatenate([try data.train.tensor(), try data.test.tensor()])
        let n = x.shape[0]
        let spread = (x.max(axis: 0) + (-x).max(axis: 0)).scalars
        if let constant = spread.firstIndex(where: { $0 == 0 }) {
            throw UsageError("column \(constant + 1) of \(data.source) takes one value only; a Gaussian mixture's likelihood grows without bound on it, so there is nothing to compare")
        }
        let settings = ModelSettings(dataSize: x.shape[1], values: ["components": try arguments.integer("components", default: 3, in: componentOption.range)])
        let values = x.scalars, width = x.shape[1]
        let components = settings["components"], distinct = Set((0..<n).map { values[($0 * width)..<(($0 + 1) * width)] }).count
        guard distinct > components else {
            throw UsageError("\(data.source) has \(distinct) distinct rows for \(components) components; a component would sit on a single point, where the likelihood grows without bound, so there is nothing to compare")
        }
        let seed = UInt64(try arguments.integer("seed", default: 0, in: 0...Int(Int32.max)))
        let steps = try arguments.integer("steps", default: 3000, in: 1...1_000_000)
        let batches = (n + 255) / 256
        var options = TrainingOptions(epochs: (steps + batches - 1) / batches, batchSize: 256, optimizer: .adam(learningRate: 0.01))
        options.seed = seed
        let vi = Amortized(model.build(settings), options: model.compilerOptions(settings), seed: seed)
        output.human(try vi.compile(example: x.slice(axis: 0, 0..<Swift.min(256, n)), datasetSize: n).description)
        let initialLocs = vi.parameters["locs"]!
        let fitting = WorkProgress("fitting by AEVB", total: options.epochs * batches)
        options.onStep = { fitting.update(($0.epoch - 1) * $0.batches + $0.batch) }
        let start = Date()
        _ = try vi.fit(x, options: options)
        let seconds = Date().timeIntervalSince(start)
        fitting.finish()
        let rest = WorkProgress("exact posterior, EM (best of 10 starts), amortization gap", total: 3)
        let comparison = try vi.compareWithExactPosterior(x, site: "z")
        rest.update(1)
        let em = GaussianMixtureEM.bestOfStarts(x, locs: initialLocs, seed: seed)
        rest.update(2)
        let gapRows = x.slice(axis: 0, 0..<Swift.min(500, n))
        let gap = try vi.amortizationGap(gapRows, steps: 300, learningRate: 0.05)
        rest.update(3)
        rest.finish()
        let stepCount = options.epochs * batches
        let rows: [(String, String)] = [
            ("mean KL(q || exact posterior)", String(format: "%.5f nats", comparison.meanKL)),
            ("mean total variation", String(format: "%.5f", comparison.meanTotalVariation)),
            ("argmax agreement", String(format: "%.4f", comparison.argmaxAgreement)),
            ("log-likelihood per point (amortized fit)", String(format: "%.4f", comparison.meanLogLikelihood)),
            ("log-likelihood per point (EM)", String(format: "%.4f", em.logLikelihood)),
            ("ELBO per point", String(format: "%.4f", comparison.meanELBO)),
            ("amortization gap (\(gapRows.shape[0]) points)", String(format: "%.5f nats", gap.amortizationGap)),
            ("time per step", String(format: "%.3f ms (%d steps)", seconds * 1000 / Double(stepCount), stepCount)),
        ]
        for (label, value) in rows { output.human(label.padding(toLength: 42, withPad: " ", startingAt: 0) + value) }
        var figures: [String: Any] = [:]
        try writeText(try picture(x, columns: data.columns, vi, rows), to: path)
        output.human("wrote \(path)")
        figures["path"] = path
        return figures.merging(["kl_q_p_mean": Double(comparison.meanKL), "tv_mean": Double(comparison.meanTotalVariation), "argmax_agreement": Double(comparison.argmaxAgreement),
                "loglik_amortized": Double(comparison.meanLogLikelihood), "loglik_em": Double(em.logLikelihood), "elbo": Double(comparison.meanELBO),
                "amortization_gap": Double(gap.amortizationGap), "ms_per_step": seconds * 1000 / Double(stepCount), "steps": stepCount]) { own, _ in own }
    }

    /// The data coloured by the exact posterior beside the data coloured by the amortized one
    /// (2,000 points drawn), the learned components as 2-sigma ellipses, and the table; data of
    /// more than two columns are drawn in their first two principal directions.
    func picture(_ x: Tensor, columns: [String]?, _ vi: Amortized<Tensor>, _ rows: [(String, String)]) throws -> String {
        let shown = x.slice(axis: 0, 0..<Swift.min(2_000, x.shape[0]))
        let exact = try vi.model.exactPosterior(shown, shown.shape[0], site: "z", parameters: vi.parameters)
        let amortized = (try vi.posterior(shown)["z"] as? Categorical)?.probs ?? exact
        func rowsOf(_ t: Tensor) -> [[Double]] {
            let k = t.shape[1], values = t.scalars.map(Double.init)
            return (0..<t.shape[0]).map { Array(values[($0 * k)..<(($0 + 1) * k)]) }
        }
        let plane = PrincipalPlane(x, columns: columns)
        let points = rowsOf(shown).enumerated().map { plane.project($0.element, index: $0.offset) }
        let components = zip(rowsOf(vi.parameters["locs"]!), rowsOf(vi.parameters["scales"]!)).map { plane.component(center: $0, scales: $1) }
        var scatter = SVGScatter(points: points, panels: [.init(title: "exact posterior p(z | x)", probabilities: rowsOf(exact)),
                                                          .init(title: "amortized posterior q(z | x)", probabilities: rowsOf(amortized))],
                                 components: components, xLabel: plane.labels.0, yLabel: plane.labels.1, table: rows)
        scatter.equalScales = x.shape[1] > 2
        return scatter.rendered()
    }
}

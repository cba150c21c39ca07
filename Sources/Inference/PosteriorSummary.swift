import Distributions
import PPL
import TensorCore

/// A latent site's learned posterior in numbers, element by element: mean, standard deviation
/// and quantiles. Works for every site: a constrained one (a positive rate, a probability, a
/// simplex) as much as a real one.
public struct PosteriorSummary {
    /// `E_q[z]`, the value's shape (with the rows first, for a local site).
    public let mean: Tensor
    /// `sqrt(Var_q[z])`.
    public let standardDeviation: Tensor
    /// The quantile of each requested level, e.g. `quantiles[0.5]` is the median.
    public let quantiles: [Float: Tensor]
    /// True when the mean and standard deviation are the guide's closed forms; false when they
    /// are averages of the draws.
    public let isExact: Bool
    /// Draws the quantiles (and, when not exact, the moments) come from.
    public let draws: Int
}

extension Amortized {
    /// Summaries of the learned posterior at each guided site for `rows`, and at each of the
    /// model's `deterministic` sites (the model run on each joint draw; none when a site is
    /// summed out of the model, since a draw from its prior is not its posterior). The mean and standard
    /// deviation are the guide's closed forms when it has them and depends on no upstream
    /// latent, otherwise averages over `draws` joint draws of the guide (which carry the
    /// dependence between sites); quantiles at `levels` always come from the draws.
    public func posteriorSummary(_ rows: Input, draws: Int = 1000, levels: [Float] = [0.05, 0.5, 0.95]) throws -> [String: PosteriorSummary] {
        guard draws >= 2 else { throw TrainingError.badOptions(reason: "a posterior summary needs at least 2 draws, got \(draws)") }
        guard levels.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw TrainingError.badOptions(reason: "quantile levels must lie in [0, 1], got \(levels)") }
        if plan == nil { try compile(example: rows, datasetSize: rows.rowCount) }
        guard let guide, let plan else { throw TrainingError.notCompiled }
        let box = evaluationGenerator(6), modelBox = evaluationGenerator(7)
        var samples: [String: [Tensor]] = [:]
        var distributions: [String: any Distribution] = [:]
        var replaysModel = !plan.sites.contains { $0.estimator == .marginalized }
        let known = try knownValues(rows)
        try withoutGradient {
            for _ in 0..<draws {
                let recorder = TraceHandler()
                try guide.run(rows, rows.rowCount, handlers: [recorder, guideParameters] + (known.map { [$0] } ?? []) + [SeedHandler(box)])
                for site in recorder.trace.latentSites {
                    samples[site.name, default: []].append(site.value)
                    distributions[site.name] = site.distribution
                }
                guard replaysModel else { continue }
                let replayed = TraceHandler()
                try model.run(rows, rows.rowCount, handlers: [replayed, parameters, SeedHandler(modelBox), ReplayHandler(recorder.trace)])
                let deterministic = replayed.trace.sites.filter { $0.kind == .deterministic }
                replaysModel = !deterministic.isEmpty
                for site in deterministic { samples[site.name, default: []].append(site.value) }
            }
        }
        var result: [String: PosteriorSummary] = [:]
        for (name, values) in samples {
            let stacked = Tensor.stack(values)
            let q = distributions[name]
            // A partly observed site's q stands for its unknown rows only: its draws hold the known.
            let independent = (plan[name].map { $0.inputs.allSatisfy { $0 == "data" || $0 == "hand-written" } } ?? false) && !plan.partlyObservedNames.contains(name)
            let exact = independent ? q.flatMap { q -> (Tensor, Tensor)? in
                let mean = q.mean, variance = q.variance
                return mean.isFinite && variance.isFinite && mean.shape == stacked.shape.dropFirst().map({ $0 }) ? (mean, sqrt(clamp(variance, min: 0))) : nil
            } : nil
            let mean = exact?.0 ?? stacked.mean(axis: 0)
            let deviation = exact?.1 ?? sqrt(clamp(square(stacked - mean).sum(axis: 0) / Float(draws - 1), min: 0))
            result[name] = PosteriorSummary(mean: mean, standardDeviation: deviation, quantiles: quantiles(stacked, levels), isExact: exact != nil, draws: draws)
        }
        return result
    }

    /// The quantiles at `levels` of each element over the first axis (linear interpolation
    /// between order statistics).
    func quantiles(_ stacked: Tensor, _ levels: [Float]) -> [Float: Tensor] {
        let draws = stacked.shape[0]
        let elements = stacked.count / Swift.max(draws, 1)
        let values = stacked.scalars
        var columns = [[Float]](repeating: [], count: elements)
        for element in 0..<elements { columns[element] = (0..<draws).map { values[$0 * elements + element] }.sorted() }
        var result: [Float: Tensor] = [:]
        for level in levels {
            let position = level * Float(draws - 1)
            let lower = Int(position.rounded(.down)), upper = Swift.min(lower + 1, draws - 1)
            let fraction = position - Float(lower)
            let scalars = columns.map { $0[lower] * (1 - fraction) + $0[upper] * fraction }
            result[level] = Tensor(shape: Array(stacked.shape.dropFirst()), scalars: scalars)
        }
        return result
    }
}

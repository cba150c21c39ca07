import Distributions
import PPL
import TensorCore

/// How much a local continuous latent site is used, coordinate by coordinate: the KL of the
/// guide from the model's prior, `E_x[KL(q(z_i | x) || p(z_i))]`, and the activity
/// `Cov_x(E_q[z_i | x])` of Burda et al. (2016); a coordinate whose activity is near zero has
/// collapsed onto its prior and carries nothing about `x`.
public struct LatentActivity {
    /// The model's site.
    public let site: String
    /// `E_x[KL(q(z_i | x) || p(z_i | ...))]` per coordinate, in nats (nil when the guide or the
    /// prior is not a Normal per coordinate, so that no closed form applies).
    public let klPerCoordinate: [Double]?
    /// `Var_x(E_q[z_i | x])` per coordinate.
    public let activity: [Double]

    /// Burda et al.'s threshold for an active unit.
    public static let activeThreshold = 0.01

    /// The coordinates whose activity exceeds `activeThreshold`.
    public var activeCoordinates: Int { activity.filter { $0 > Self.activeThreshold }.count }
}

extension Amortized {
    /// The activity of each local site with a continuous guide over `rows` (at least 2), in the
    /// order of the plan; the KL per coordinate where guide and prior are both Normal.
    public func latentActivity(_ rows: Input) throws -> [LatentActivity] {
        guard rows.rowCount >= 2 else { throw TrainingError.badOptions(reason: "latent activity needs at least 2 rows, got \(rows.rowCount)") }
        if plan == nil { try compile(example: rows, datasetSize: rows.rowCount) }
        guard let plan else { throw TrainingError.notCompiled }
        let computation = try computation(generator: evaluationGenerator(7))
        let traces = try withoutGradient { try computation.traces(rows, datasetSize: rows.rowCount) }
        var result: [LatentActivity] = []
        for site in plan.sites where site.plate?.isDataPlate == true && site.isGuided && site.estimator != .enumerated {
            guard let q = traces.guide[site.name]?.distribution, case .real = q.support else { continue }
            let mean = q.mean
            // Rows on the first axis: the data plate is the site's leftmost batch axis.
            guard let plate = site.plate, q.batchShape.count + plate.dim == 0, mean.shape.first == rows.rowCount, mean.isFinite else { continue }
            let perRow = mean.reshaped(to: [rows.rowCount, -1])
            let centered = perRow - perRow.mean(axis: 0)
            let activity = ((centered * centered).sum(axis: 0) / Float(rows.rowCount - 1)).scalars.map(Double.init)
            var kl: [Double]?
            if let guide = normalCoordinates(q), let prior = traces.model[site.name]?.distribution.flatMap(normalCoordinates) {
                let (m, s) = (guide.loc.expanded(to: mean.shape), guide.scale.expanded(to: mean.shape))
                let (m0, s0) = (prior.loc.expanded(to: mean.shape), prior.scale.expanded(to: mean.shape))
                let ratio = s / s0
                let terms = -log(ratio) + (ratio * ratio + square((m - m0) / s0) - 1) / 2
                kl = terms.reshaped(to: [rows.rowCount, -1]).mean(axis: 0).scalars.map(Double.init)
            }
            result.append(LatentActivity(site: site.name, klPerCoordinate: kl, activity: activity))
        }
        return result
    }

    /// The Normal under `distribution` when it is one coordinate by coordinate.
    private func normalCoordinates(_ distribution: any Distribution) -> Normal? {
        if let normal = distribution as? Normal { return normal }
        if let independent = distribution as? Independent<Normal> { return independent.base }
        return nil
    }
}

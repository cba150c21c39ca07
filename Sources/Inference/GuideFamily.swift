import Distributions
import Foundation
import PPL
import TensorCore

/// A family of guide distributions for one latent site. The head (an encoder for a local site,
/// an affine map of the upstream latents for a global one) outputs `outputCount` unconstrained
/// numbers per value; the family turns them into the guide's distribution. The plan prints the
/// family that builds the guide, so the two cannot disagree.
protocol GuideFamily: CustomStringConvertible {
    /// Numbers the head outputs for one value of the site (one row's, for a local site).
    func outputCount(_ site: SiteShape) -> Int
    /// The output a global head starts from (before any training), shape `[outputCount]`.
    func initialOutput(_ site: SiteShape) -> Tensor
    /// The guide's distribution from `raw`, of shape `leading + [outputCount]`: batch shape
    /// `leading + site.valueBatch`, event shape the site's.
    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution
    /// What a downstream head is fed of a draw `value` of `distribution`, made from `raw` (shape
    /// `leading + [outputCount]`): the draw's batch axes, then `featureCount` numbers per element.
    /// A category becomes one-hot; a continuous draw its standardized noise `(u - loc) / scale`,
    /// which holds what the value holds but does not move when the upstream guide's mean moves
    /// (fed the value itself, a downstream head learned to chase the upstream mean during
    /// training and trapped a two-level model 1.5 nats below its optimum).
    func features(of value: Tensor, raw: Tensor, leading: [Int], site: SiteShape, distribution: any Distribution) -> Tensor
    /// Numbers `features` gives each element of the value's batch.
    func featureCount(_ site: SiteShape) -> Int
    /// Whether a downstream head gains anything from this site's draws (a point does not: it is
    /// constant).
    var feedsDownstreamHeads: Bool { get }
    /// The name of the bijector onto the support, for the plan.
    var bijectorName: String { get }
}

extension GuideFamily {
    /// The draw's numbers as they are, broadcast to the distribution's batch.
    func features(of value: Tensor, raw: Tensor, leading: [Int], site: SiteShape, distribution: any Distribution) -> Tensor {
        let full = value.expanded(to: Shape.broadcast(value.shape, distribution.batchShape + distribution.eventShape) ?? value.shape)
        return full.reshaped(to: Array(full.shape.dropLast(site.eventRank)) + [featureCount(site)])
    }

    func featureCount(_ site: SiteShape) -> Int { site.event.reduce(1, *) }
    var bijectorName: String { "none" }
    var feedsDownstreamHeads: Bool { true }
}

/// The facts of one latent site that a guide family needs.
struct SiteShape {
    /// The batch dimensions of one value: right of the data plate for a local site (one row's),
    /// the whole batch shape for a global site.
    let valueBatch: [Int]
    /// The event shape of the prior.
    let event: [Int]
    /// The event shape in unconstrained coordinates (a simplex loses one entry).
    let unconstrainedEvent: [Int]
    let support: Constraint
    /// The prior at the prototype (its family, and its mean to start a global head from).
    let prior: any Distribution
    /// The finite support's values, shape `[K] + event`, when the site is enumerable.
    let supportValues: Tensor?

    /// `valueBatch + event`.
    var valueShape: [Int] { valueBatch + event }
    /// `valueBatch + unconstrainedEvent`.
    var unconstrainedShape: [Int] { valueBatch + unconstrainedEvent }
    var eventRank: Int { event.count }

    /// The site's facts; `support` is the prior's unless given (a local site's, cut to one row).
    init(prior: any Distribution, valueBatch: [Int], support: Constraint? = nil) {
        self.prior = prior
        self.valueBatch = valueBatch
        event = prior.eventShape
        self.support = support ?? prior.support
        var unconstrained = prior.eventShape
        if case .simplex = self.support, !unconstrained.isEmpty { unconstrained[unconstrained.count - 1] -= 1 }
        unconstrainedEvent = unconstrained
        supportValues = prior.enumerateSupport().map { support in
            let count = support.shape.first ?? 0
            return support.reshaped(to: [count] + prior.eventShape)
        }
    }

    /// The prior's mean for one value in unconstrained coordinates, if finite (where a global
    /// guide starts); nil when the prior has no closed-form mean.
    var unconstrainedPriorMean: Tensor? {
        let mean = prior.mean
        let count = valueShape.reduce(1, *)
        guard mean.isFinite, mean.count > 0 else { return nil }
        let value: Tensor
        if mean.count == 1 {
            value = mean.reshaped(to: []).expanded(to: valueShape)
        } else if Array(mean.shape.suffix(valueShape.count)) == valueShape, count > 0 {
            value = mean.reshaped(to: [mean.count / count, count]).slice(axis: 0, 0..<1).reshaped(to: valueShape)
        } else {
            return nil
        }
        let unconstrained = withoutGradient { (support.bijector ?? IdentityBijector()).inverse(value) }
        return unconstrained.isFinite ? unconstrained.detached : nil
    }
}

/// `d` with its last `rank` batch axes read as the event.
func independent<D: Distribution>(_ d: D, _ rank: Int) -> any Distribution {
    rank > 0 ? d.independent(rank) : d
}

/// The columns `range` of the last axis of `raw`, reshaped to `shape`.
func outputs(_ raw: Tensor, _ range: Range<Int>, as shape: [Int]) -> Tensor {
    raw.slice(axis: raw.rank - 1, range).reshaped(to: shape)
}

/// `softplus^-1(y) = log(exp(y) - 1)`: the raw output a softplus maps to `y`.
func inverseSoftplus(_ y: Float) -> Float { Float(Foundation.log(Foundation.expm1(Double(y)))) }

/// The short name of a bijector, for the plan.
func describe(_ bijector: (any Bijector)?) -> String {
    switch bijector {
    case is IdentityBijector: return "identity"
    case is ExpBijector: return "exp"
    case is SigmoidBijector: return "sigmoid"
    case is StickBreakingBijector: return "stick-breaking"
    case is LowerCholeskyBijector: return "lower Cholesky"
    case let composed as ComposedBijector: return composed.parts.map { describe($0) }.joined(separator: " then ")
    case is AffineBijector: return "affine"
    default: return "none"
    }
}

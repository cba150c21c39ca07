import Distributions
import TensorCore

/// A diagonal normal on the unconstrained space, pushed onto the site's support by the
/// constraint's bijector: `z = T(loc + scale * eps)`. Global heads start at the prior's mean
/// with scale 0.1.
struct NormalGuide: GuideFamily {
    let bijector: any Bijector

    init(support: Constraint) { bijector = support.bijector ?? IdentityBijector() }

    var description: String { "Normal" }
    var bijectorName: String { describe(bijector) }

    func outputCount(_ site: SiteShape) -> Int { 2 * site.unconstrainedShape.reduce(1, *) }

    func initialOutput(_ site: SiteShape) -> Tensor {
        let count = site.unconstrainedShape.reduce(1, *)
        let loc = site.unconstrainedPriorMean?.reshaped(to: [count]) ?? Tensor.zeros([count])
        return Tensor.concatenate([loc, Tensor.full([count], inverseSoftplus(0.1))])
    }

    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution {
        let (loc, scale) = parameters(raw, leading: leading, site: site)
        return pushed(Normal(loc, scale), site: site, bijector: bijector)
    }

    func parameters(_ raw: Tensor, leading: [Int], site: SiteShape) -> (loc: Tensor, scale: Tensor) {
        let count = site.unconstrainedShape.reduce(1, *)
        let shape = leading + site.unconstrainedShape
        return (outputs(raw, 0..<count, as: shape), softplus(outputs(raw, count..<(2 * count), as: shape)) + 1e-5)
    }

    /// The standardized noise `(T^-1(z) - loc) / scale` of the draw.
    func features(of value: Tensor, raw: Tensor, leading: [Int], site: SiteShape, distribution: any Distribution) -> Tensor {
        let (loc, scale) = parameters(raw, leading: leading, site: site)
        let noise = (bijector.inverse(value) - loc) / scale
        return noise.reshaped(to: leading + site.valueBatch + [featureCount(site)])
    }

    func featureCount(_ site: SiteShape) -> Int { site.unconstrainedEvent.reduce(1, *) }
}

/// `base` (over unconstrained values) pushed through `bijector`, with the site's event axes as
/// the event.
func pushed<Base: Distribution>(_ base: Base, site: SiteShape, bijector: any Bijector) -> any Distribution {
    if bijector is IdentityBijector { return independent(base, site.eventRank - base.eventShape.count) }
    let transformed = TransformedDistribution(base, bijector)
    return independent(transformed, site.eventRank - transformed.eventShape.count)
}

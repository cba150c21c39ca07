import Distributions
import TensorCore

/// A point estimate: `q` puts all its mass on `T(raw)`, the bijector's image of the head's
/// output (MAP for a global site; with `beta = 0`, the encoder of a plain autoencoder).
struct PointGuide: GuideFamily {
    let bijector: any Bijector

    init(support: Constraint) { bijector = support.bijector ?? IdentityBijector() }

    var description: String { "Delta" }
    var feedsDownstreamHeads: Bool { false }
    var bijectorName: String { describe(bijector) }

    func outputCount(_ site: SiteShape) -> Int { site.unconstrainedShape.reduce(1, *) }

    func initialOutput(_ site: SiteShape) -> Tensor {
        site.unconstrainedPriorMean?.reshaped(to: [-1]) ?? Tensor.zeros([outputCount(site)])
    }

    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution {
        Delta(bijector.forward(raw.reshaped(to: leading + site.unconstrainedShape)), eventRank: site.eventRank)
    }
}

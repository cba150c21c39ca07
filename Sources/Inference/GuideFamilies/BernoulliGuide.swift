import Distributions
import TensorCore

/// Independent Bernoulli variables, one logit each: the guide of a binary site with too many
/// configurations to enumerate (estimated by the score function).
struct BernoulliGuide: GuideFamily {
    var description: String { "Bernoulli" }

    func outputCount(_ site: SiteShape) -> Int { site.valueShape.reduce(1, *) }

    func initialOutput(_ site: SiteShape) -> Tensor { Tensor.zeros([outputCount(site)]) }

    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution {
        independent(Bernoulli(logits: raw.reshaped(to: leading + site.valueShape)), site.eventRank)
    }
}

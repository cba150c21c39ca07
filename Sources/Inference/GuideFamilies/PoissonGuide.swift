import Distributions
import TensorCore

/// Independent Poisson counts, rates by `softplus`: the guide of a count-valued site
/// (estimated by the score function).
struct PoissonGuide: GuideFamily {
    var description: String { "Poisson" }

    func outputCount(_ site: SiteShape) -> Int { site.valueShape.reduce(1, *) }

    func initialOutput(_ site: SiteShape) -> Tensor {
        let count = outputCount(site)
        guard let mean = site.prior.mean.isFinite ? site.prior.mean : nil, mean.count == count || mean.count == 1 else { return Tensor.zeros([count]) }
        let rate = clamp(mean.reshaped(to: [-1]).expanded(to: [count]), min: 1e-3)
        return log(expm1(rate))
    }

    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution {
        independent(Poisson(rate: softplus(raw.reshaped(to: leading + site.valueShape)) + 1e-6), site.eventRank)
    }
}

import Distributions
import Foundation
import TensorCore

/// A full-covariance normal over the unconstrained event vector, `N(loc, L L^T)` with `L` lower
/// triangular (positive diagonal by `exp`), pushed onto the support by the bijector. For sites
/// whose event is one vector; the head outputs `D` locations and a `D x D` factor per value.
struct MultivariateNormalGuide: GuideFamily {
    let bijector: any Bijector

    init(support: Constraint) { bijector = support.bijector ?? IdentityBijector() }

    var description: String { "MultivariateNormal" }
    var bijectorName: String { describe(bijector) }

    func dimension(_ site: SiteShape) -> Int { site.unconstrainedEvent.last ?? 1 }

    func outputCount(_ site: SiteShape) -> Int {
        let d = dimension(site)
        return site.valueBatch.reduce(1, *) * (d + d * d)
    }

    func initialOutput(_ site: SiteShape) -> Tensor {
        let d = dimension(site), elements = site.valueBatch.reduce(1, *)
        let loc = site.unconstrainedPriorMean?.reshaped(to: [elements, d]) ?? Tensor.zeros([elements, d])
        let diagonal = (0..<(d * d)).map { $0 % d == $0 / d ? Float(Foundation.log(0.1)) : 0 }
        let factor = Tensor(shape: [1, d * d], scalars: diagonal).expanded(to: [elements, d * d])
        return Tensor.concatenate([loc, factor], axis: 1).reshaped(to: [-1])
    }

    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution {
        let (loc, factor) = parameters(raw, leading: leading, site: site)
        return pushed(MultivariateNormal(loc: loc, scaleTril: factor), site: site, bijector: bijector)
    }

    func parameters(_ raw: Tensor, leading: [Int], site: SiteShape) -> (loc: Tensor, factor: Tensor) {
        let d = dimension(site)
        let perElement = raw.reshaped(to: leading + site.valueBatch + [d + d * d])
        let loc = outputs(perElement, 0..<d, as: leading + site.valueBatch + [d])
        return (loc, LowerCholeskyBijector().forward(outputs(perElement, d..<(d + d * d), as: leading + site.valueBatch + [d, d])))
    }

    /// The whitened noise `L^-1 (T^-1(z) - loc)` of the draw.
    func features(of value: Tensor, raw: Tensor, leading: [Int], site: SiteShape, distribution: any Distribution) -> Tensor {
        let (loc, factor) = parameters(raw, leading: leading, site: site)
        let centered = (bijector.inverse(value) - loc).unsqueezed(axis: -1)
        return triangularSolve(factor, centered).reshaped(to: leading + site.valueBatch + [dimension(site)])
    }

    func featureCount(_ site: SiteShape) -> Int { dimension(site) }
}

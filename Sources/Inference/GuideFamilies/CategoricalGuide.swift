import Distributions
import TensorCore

/// A categorical over the site's finite support, `q(values[k]) = softmax(logits)_k`, per element
/// of the value's batch: a `Categorical` for a categorical prior, a `Bernoulli` for a binary
/// one, otherwise a `FiniteDiscrete` over the support's values (a vector of binary causes is
/// guided jointly, over all its configurations).
struct CategoricalGuide: GuideFamily {
    enum Kind { case categorical, bernoulli, values }
    let count: Int
    let kind: Kind

    init(prior: any Distribution, count: Int) {
        self.count = count
        if prior is Categorical {
            kind = .categorical
        } else if prior is Bernoulli {
            kind = .bernoulli
        } else {
            kind = .values
        }
    }

    var description: String { kind == .bernoulli ? "Bernoulli" : "Categorical(\(count))" }

    func outputCount(_ site: SiteShape) -> Int { site.valueBatch.reduce(1, *) * (kind == .bernoulli ? 1 : count) }

    func initialOutput(_ site: SiteShape) -> Tensor { Tensor.zeros([outputCount(site)]) }

    func distribution(_ raw: Tensor, leading: [Int], site: SiteShape) -> any Distribution {
        switch kind {
        case .bernoulli:
            return Bernoulli(logits: raw.reshaped(to: leading + site.valueBatch))
        case .categorical:
            return Categorical(logits: raw.reshaped(to: leading + site.valueBatch + [count]))
        case .values:
            return FiniteDiscrete(values: site.supportValues ?? Tensor.arange(count), logits: raw.reshaped(to: leading + site.valueBatch + [count]), support: site.support)
        }
    }

    /// The draw (or enumerated value) broadcast to the batch; a category as one-hot.
    func features(of value: Tensor, raw: Tensor, leading: [Int], site: SiteShape, distribution: any Distribution) -> Tensor {
        let full = value.expanded(to: Shape.broadcast(value.shape, distribution.batchShape + distribution.eventShape) ?? value.shape)
        guard kind == .categorical else { return full.reshaped(to: Array(full.shape.dropLast(site.eventRank)) + [featureCount(site)]) }
        return Tensor.oneHot(full, classes: count)
    }

    func featureCount(_ site: SiteShape) -> Int { kind == .categorical ? count : site.event.reduce(1, *) }
}

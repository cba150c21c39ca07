import Distributions
import Foundation
import PPL
import TensorCore

/// Hesterberg's defensive importance sampling (1995) for a site of listed values drawn by the
/// score function: `q'(v) = (1 - epsilon) q(v) + epsilon / K` over its K values. A guide sure of
/// one value never proposes the others, and an importance-sampled log p(x) then misses their
/// share of p(x) with no sign in the weights, every draw being alike (a two-Poisson mixture
/// read -2.80 a row where log p(x) is -2.70). Under q' every value is drawn, and each weight
/// p / q' is at most 1 / (1 - epsilon) times p / q. It draws values, as q does, so a model
/// runs under it as under q.
struct DefensiveProposal: Distribution {
    let base: any Distribution
    /// The K listed values, as `enumerateSupport` gives them: `[K]` then a 1 for each batch axis.
    let values: Tensor
    let epsilon: Float

    /// Nil for a distribution with an event or without a list of at least two values.
    init?(_ base: any Distribution, epsilon: Float) {
        guard base.eventShape.isEmpty, let values = base.enumerateSupport(), let count = values.shape.first, count >= 2, values.count == count else { return nil }
        self.base = base
        self.values = values
        self.epsilon = epsilon
    }

    var valueCount: Int { values.shape[0] }
    var batchShape: [Int] { base.batchShape }
    var eventShape: [Int] { [] }
    var support: Constraint { base.support }
    var hasReparameterizedSample: Bool { false }
    func enumerateSupport() -> Tensor? { values }

    /// `log((1 - epsilon) q(v) + epsilon / K)`.
    func logProb(_ value: Tensor) -> Tensor {
        let fromBase = base.logProb(value) + Float(Foundation.log(Double(1 - epsilon)))
        let uniform = Tensor.zeros(fromBase.shape) + Float(Foundation.log(Double(epsilon) / Double(valueCount)))
        return Tensor.stack([fromBase, uniform]).logSumExp(axis: 0)
    }

    /// A draw of q, or with probability epsilon one of the K values, each as likely.
    func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor {
        let fromBase = base.sample(sampleShape, using: &generator)
        let shape = fromBase.shape
        let uniform = Tensor.ones(shape + [valueCount]) / Float(valueCount)
        let listed = values.reshaped(to: [valueCount]).gathering(Tensor.randomCategorical(probabilities: uniform, using: &generator))
        return select(Tensor.randomUniform(shape, using: &generator) .< Tensor(epsilon), listed, fromBase)
    }

    var mean: Tensor { (1 - epsilon) * base.mean + epsilon * values.mean() }
    var variance: Tensor {
        let secondMoment = (1 - epsilon) * (base.variance + base.mean * base.mean) + epsilon * (values * values).mean()
        return secondMoment - mean * mean
    }
    /// `-sum_v q'(v) log q'(v)` over the K values.
    func entropy() -> Tensor {
        let logProbs = logProb(values)
        return -(exp(logProbs) * logProbs).sum(axes: [0])
    }
    func expanded(to batchShape: [Int]) -> DefensiveProposal {
        DefensiveProposal(base.expanded(to: batchShape), epsilon: epsilon)!
    }
}

/// Draws the listed sites of the guide from their defensive proposals (`DefensiveProposal`)
/// and records those proposals as their guide distributions, so that the importance weights
/// divide by q'; sites without a list of values are left to q.
final class DefensiveProposalHandler: Handler {
    let sites: Set<String>
    let epsilon: Float

    init(sites: Set<String>, epsilon: Float) {
        self.sites = sites
        self.epsilon = epsilon
    }

    func process(_ message: inout Message) {
        guard message.kind == .latent, message.value == nil, sites.contains(message.name), let q = message.distribution,
              let box = message.generator, let proposal = DefensiveProposal(q, epsilon: epsilon) else { return }
        message.distribution = proposal
        message.value = message.draw(proposal, from: box, reparameterized: false)
    }
}

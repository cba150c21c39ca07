import TensorCore

/// A distribution whose last `reinterpretedBatchRank` batch axes are read as event axes
/// (Pyro's `to_event`): `log p(x) = sum over those axes of base.logProb(x)`.
public struct Independent<Base: Distribution>: Distribution {
    public let base: Base
    public let reinterpretedBatchRank: Int

    /// `base` with its last `reinterpretedBatchRank` batch axes moved into the event.
    public init(_ base: Base, reinterpretedBatchRank: Int) {
        self.base = base
        if reinterpretedBatchRank > base.batchShape.count || reinterpretedBatchRank < 0 {
            recordDeferredError(DistributionError.shapeMismatch(distribution: "Independent", message: "cannot reinterpret \(reinterpretedBatchRank) of the batch axes \(describe(base.batchShape)) of \(base.name)"))
        }
        self.reinterpretedBatchRank = Swift.min(Swift.max(reinterpretedBatchRank, 0), base.batchShape.count)
    }

    public var batchShape: [Int] { Array(base.batchShape.dropLast(reinterpretedBatchRank)) }
    public var eventShape: [Int] { Array(base.batchShape.suffix(reinterpretedBatchRank)) + base.eventShape }
    public var support: Constraint { base.support }
    public var hasReparameterizedSample: Bool { base.hasReparameterizedSample }

    func summedOverEvent(_ t: Tensor) -> Tensor {
        reinterpretedBatchRank == 0 ? t : t.sum(axes: Array((t.rank - reinterpretedBatchRank)..<t.rank))
    }

    public func logProb(_ value: Tensor) -> Tensor { summedOverEvent(base.logProb(value)) }
    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor { base.sample(sampleShape, using: &generator) }
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor { base.rsample(sampleShape, using: &generator) }
    public var mean: Tensor { base.mean }
    public var variance: Tensor { base.variance }
    public func entropy() -> Tensor { summedOverEvent(base.entropy()) }
    public func expanded(to batchShape: [Int]) -> Independent<Base> {
        Independent(base.expanded(to: batchShape + Array(base.batchShape.suffix(reinterpretedBatchRank))), reinterpretedBatchRank: reinterpretedBatchRank)
    }
}

/// What the KL registry needs to see through `Independent` without knowing its base type.
protocol ReinterpretedDistribution {
    var baseDistribution: any Distribution { get }
    var reinterpretedBatchRank: Int { get }
}

extension Independent: ReinterpretedDistribution {
    var baseDistribution: any Distribution { base }
}

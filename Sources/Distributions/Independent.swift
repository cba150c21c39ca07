import TensorCore

/// A distribution whose last `reinterpretedBatchRank` batch axes are read as event axes
/// (Pyro's `to_event`): `log p(x) = sum over those axes of base.logProb(x)`.
public struct Independent<Base: Distribution>: Distribution, ProductOfElements {
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
    public var isPointMass: Bool { base.isPointMass }

    func summedOverEvent(_ t: Tensor) -> Tensor {
        reinterpretedBatchRank == 0 ? t : t.sum(axes: Array((t.rank - reinterpretedBatchRank)..<t.rank))
    }

    public func logProb(_ value: Tensor) -> Tensor {
        if reinterpretedBatchRank > 0, let summing = base as? SummedLogProb {
            return summing.logProb(value, summingLast: reinterpretedBatchRank)
        }
        return summedOverEvent(base.logProb(value))
    }
    public func elementwiseLogProb(_ value: Tensor) -> Tensor { base.elementwiseLogProb(value) }
    public func sample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor { base.sample(sampleShape, using: &generator) }
    public func rsample(_ sampleShape: [Int], using generator: inout RandomGenerator) -> Tensor { base.rsample(sampleShape, using: &generator) }
    /// Every combination of the base's values over the reinterpreted axes (`K^D` values for
    /// `D` elements of `K` values each), shape `[K^D] + [1] * batchRank + eventShape`; nil when
    /// the base has no finite support or there would be more than `enumerationLimit` values.
    public func enumerateSupport() -> Tensor? {
        guard let support = base.enumerateSupport() else { return nil }
        let reinterpreted = Array(base.batchShape.suffix(reinterpretedBatchRank))
        let elements = reinterpreted.reduce(1, *)
        let count = support.shape.first ?? 0
        guard reinterpretedBatchRank > 0 else { return support }
        guard count > 0, let total = integerPower(count, elements), total <= Self.enumerationLimit else { return nil }
        let eventSize = base.eventShape.reduce(1, *)
        let values = support.uncountedScalars
        var scalars = [Float](repeating: 0, count: total * elements * eventSize)
        for combination in 0..<total {
            var rest = combination
            for element in stride(from: elements - 1, through: 0, by: -1) {
                let digit = rest % count
                rest /= count
                let target = (combination * elements + element) * eventSize
                for k in 0..<eventSize { scalars[target + k] = values[digit * eventSize + k] }
            }
        }
        return Tensor(shape: [total] + batchShape.map { _ in 1 } + eventShape, scalars: scalars)
    }

    /// The most values `enumerateSupport` lists (2^12: twelve binary elements).
    public static var enumerationLimit: Int { 4096 }

    /// The elements and the values each takes when the base's support is finite, whatever the
    /// number of combinations (`enumerateSupport` lists at most `enumerationLimit`).
    package var finiteCombinations: (elements: Int, valuesEach: Int)? {
        guard reinterpretedBatchRank > 0, let count = base.enumerateSupport()?.shape.first, count > 0 else { return nil }
        return (base.batchShape.suffix(reinterpretedBatchRank).reduce(1, *), count)
    }

    public var mean: Tensor { base.mean }
    public var variance: Tensor { base.variance }
    public func entropy() -> Tensor { summedOverEvent(base.entropy()) }
    public func expanded(to batchShape: [Int]) -> Independent<Base> {
        Independent(base.expanded(to: batchShape + Array(base.batchShape.suffix(reinterpretedBatchRank))), reinterpretedBatchRank: reinterpretedBatchRank)
    }
}

/// A distribution that sums its log-density over trailing axes without writing each term out,
/// to the same numbers as `logProb(value).sum(axes:)` over them.
protocol SummedLogProb {
    /// `logProb(value)` summed over its last `axes` axes.
    func logProb(_ value: Tensor, summingLast axes: Int) -> Tensor
}

/// What the KL registry needs to see through `Independent` without knowing its base type.
protocol ReinterpretedDistribution {
    var baseDistribution: any Distribution { get }
    var reinterpretedBatchRank: Int { get }
}

extension Independent: ReinterpretedDistribution {
    var baseDistribution: any Distribution { base }
}

/// `base^exponent`, or nil past `Int.max`.
func integerPower(_ base: Int, _ exponent: Int) -> Int? {
    var result = 1
    for _ in 0..<exponent {
        let (product, overflow) = result.multipliedReportingOverflow(by: base)
        if overflow { return nil }
        result = product
    }
    return result
}

/// A distribution over combinations of its elements' values (`Independent`), which may have
/// too many to list.
package protocol ProductOfElements {
    var finiteCombinations: (elements: Int, valuesEach: Int)? { get }
}

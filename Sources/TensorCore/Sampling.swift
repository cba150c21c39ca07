import CKernels
import Foundation

// Random tensors: uniform, standard normal, Bernoulli, categorical and gamma draws.
// Each takes an explicit generator (`using:`); without one, the global generator is used.

extension Tensor {
    /// Fills a tensor of `shape`: `draw(block, element, i)` computes element `i` from the Philox
    /// blocks of the counter space of `element`, its place in the whole draw (`i` itself, but
    /// for a process's share of a split minibatch: see `RowShare`). Elements are split across
    /// threads; values depend only on `element`.
    package static func drawing(_ shape: [Int], _ generator: inout RandomGenerator, _ draw: @escaping (_ block: (UInt64) -> (UInt32, UInt32, UInt32, UInt32), _ element: Int, _ index: Int) -> Float) -> Tensor {
        placed(shape, &generator) { key, stream, share, inner in
            build(shape) { out in
                let output = UncheckedSendable(out)
                parallelChunks(Shape.count(shape)) { start, count in
                    for i in start..<(start + count) {
                        let element = share?.axis == nil ? i : share!.wholeIndex(i, inner: inner)
                        output.value[i] = draw({ Philox.block(key: key, stream: stream, counter: $0) }, element, i)
                    }
                }
            }
        }
    }

    /// Fills a tensor of `shape` by `fill(key, stream, first, count, out)`, which writes
    /// elements `first..<(first + count)` of the whole draw to `out`: runs of consecutive
    /// elements split across threads, each run mapped to its place as `drawing` maps one.
    static func filling(_ shape: [Int], _ generator: inout RandomGenerator,
                        _ fill: @escaping (UInt64, UInt64, Int64, Int64, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        placed(shape, &generator) { key, stream, share, inner in
            let n = Shape.count(shape)
            let run = share?.axis == nil ? Swift.max(n, 1) : Swift.max(share!.count * inner, 1)
            return build(shape) { out in
                let output = UncheckedSendable(out)
                parallelChunks(n) { start, count in
                    var i = start
                    let end = start + count
                    while i < end {
                        let (outer, runEnd) = (i / run, Swift.min(end, (i / run + 1) * run))
                        let first = share?.axis == nil ? i : (outer * share!.total + share!.offset) * inner + i - outer * run
                        fill(key, stream, Int64(first), Int64(runEnd - i), output.value + i)
                        i = runEnd
                    }
                }
            }
        }
    }

    /// `body(key, stream, share, inner)` for the next draw of `shape`: the generator's key, a
    /// fresh stream, this process's row share and the elements per row along the share's
    /// axis; NaNs and a recorded error when the draw cannot be split.
    private static func placed(_ shape: [Int], _ generator: inout RandomGenerator,
                               _ body: (UInt64, UInt64, RowShare?, Int) -> Tensor) -> Tensor {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            return failure("random", "negative dimension in shape \(Shape.describe(shape))", shape: shape)
        }
        let share = generator.rowShare
        var inner = 1
        if let share, let axis = share.axis {
            guard axis < shape.count, shape[axis] == share.count else {
                return failure("random", "a draw of shape \(Shape.describe(shape)) does not run over this process's \(share.count) rows of the minibatch along axis \(axis), so it cannot be split across processes", shape: shape)
            }
            inner = Shape.count(Array(shape[(axis + 1)...]))
        }
        return body(generator.seed, generator.nextStream(), share, inner)
    }

    /// Independent draws from U(0, 1), strictly inside the interval.
    public static func randomUniform(_ shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        filling(shape, &generator) { latent_philox_uniform($0, $1, $2, $3, $4) }
    }

    /// Independent draws from N(0, 1) (Box-Muller on one Philox block per pair of elements).
    public static func randomNormal(_ shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        filling(shape, &generator) { latent_philox_normal($0, $1, $2, $3, $4) }
    }

    /// Independent draws from Bernoulli(p) for each element `p` of `probabilities` (1 or 0).
    public static func randomBernoulli(probabilities: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let uniform = randomUniform(probabilities.shape, using: &generator)
        return broadcasting("bernoulli", uniform, probabilities.detached) { $0 < $1 ? 1 : 0 }
    }

    /// Independent category indices, one per row of `probabilities` (last axis: K unnormalized,
    /// nonnegative weights), drawn by inverting the cumulative sum; shape drops the last axis.
    public static func randomCategorical(probabilities: Tensor, using generator: inout RandomGenerator) -> Tensor {
        guard let classes = probabilities.shape.last, classes > 0 else {
            return failure("categorical", "probabilities of shape \(Shape.describe(probabilities.shape)) have no categories", shape: Array(probabilities.shape.dropLast()))
        }
        let rowsShape = Array(probabilities.shape.dropLast())
        let uniform = randomUniform(rowsShape, using: &generator)
        return build(rowsShape) { out in
            let p = probabilities.storage.pointer, u = uniform.storage.pointer
            for row in 0..<uniform.count {
                let weights = p + row * classes
                var total: Double = 0
                for j in 0..<classes { total += Double(weights[j]) }
                let target = Double(u[row]) * total
                var cumulative: Double = 0
                var pick = classes - 1
                for j in 0..<classes {
                    cumulative += Double(weights[j])
                    if target < cumulative, weights[j] > 0 { pick = j; break }
                }
                out[row] = Float(pick)
            }
        }
    }

    /// Independent category indices from `logits` (last axis), via their softmax.
    public static func randomCategorical(logits: Tensor, using generator: inout RandomGenerator) -> Tensor {
        randomCategorical(probabilities: softmax(logits.detached), using: &generator)
    }

    /// Independent draws from Gamma(alpha, 1) for each element `alpha` of `concentration`, by
    /// Marsaglia & Tsang (2000), boosted as `Gamma(alpha + 1) U^(1/alpha)` for `alpha < 1`.
    /// A concentration that is not positive gives NaN.
    public static func randomGamma(concentration: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let alpha = concentration.detached
        return drawing(alpha.shape, &generator) { block, element, i in
            marsagliaTsang(alpha.storage.pointer[i]) { attempt in block(UInt64(element) << 20 | UInt64(attempt)) }
        }
    }

    /// Standard normal from two uniform words (Box-Muller: `latent_standard_normal`).
    package static func standardNormal(_ u1: UInt32, _ u2: UInt32) -> Float {
        latent_standard_normal(u1, u2)
    }

    /// Independent draws of `log x`, x ~ Gamma(alpha, 1), for each element `alpha` of
    /// `concentration`: the draws of `randomGamma` (the same generator positions), kept as
    /// logarithms, which do not underflow where x does (below 1.4e-45, a third of the draws at
    /// alpha = 0.01). NaN for a concentration that is not positive.
    public static func randomLogGamma(concentration: Tensor, using generator: inout RandomGenerator) -> Tensor {
        let alpha = concentration.detached
        return drawing(alpha.shape, &generator) { block, element, i in
            let a = alpha.storage.pointer[i]
            guard let (base, boost) = marsagliaTsangParts(a, { attempt in block(UInt64(element) << 20 | UInt64(attempt)) }) else { return .nan }
            return Float(Foundation.log(base) + (boost.map { Foundation.log($0) / Double(a) } ?? 0))
        }
    }

    /// One Gamma(alpha, 1) draw, taking a fresh Philox block per attempt.
    package static func marsagliaTsang(_ alpha: Float, _ block: (Int) -> (UInt32, UInt32, UInt32, UInt32)) -> Float {
        guard let (base, boost) = marsagliaTsangParts(alpha, block) else { return .nan }
        var sample = base
        if let u = boost { sample *= Foundation.pow(u, 1 / Double(alpha)) }
        return Float(sample)
    }

    /// The two parts of a Gamma(alpha, 1) draw `base u^(1/alpha)`: `base`, a Gamma(alpha)
    /// draw (Gamma(alpha + 1) for alpha < 1), and the uniform `u` of that boost (nil for
    /// alpha >= 1); nil for an alpha that is not positive and finite.
    private static func marsagliaTsangParts(_ alpha: Float, _ block: (Int) -> (UInt32, UInt32, UInt32, UInt32)) -> (base: Double, boost: Double?)? {
        guard alpha > 0, alpha.isFinite else { return nil }
        let boosted = alpha < 1
        let a = Double(boosted ? alpha + 1 : alpha)
        let d = a - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        var attempt = 0
        while true {
            let words = block(attempt)
            attempt += 1
            let x = Double(standardNormal(words.0, words.1))
            let v = 1 + c * x
            guard v > 0 else { continue }
            let v3 = v * v * v
            let u = Double(Philox.openUnit(words.2))
            guard Foundation.log(u) < 0.5 * x * x + d - d * v3 + d * Foundation.log(v3) else { continue }
            return (d * v3, boosted ? Double(Philox.openUnit(words.3)) : nil)
        }
    }

    /// N(0, 1) draws from the global generator.
    public static func randomNormal(_ shape: [Int]) -> Tensor {
        GlobalRandom.withGenerator { randomNormal(shape, using: &$0) }
    }

    /// U(0, 1) draws from the global generator.
    public static func randomUniform(_ shape: [Int]) -> Tensor {
        GlobalRandom.withGenerator { randomUniform(shape, using: &$0) }
    }
}

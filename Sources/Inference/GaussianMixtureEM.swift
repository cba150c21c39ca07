import Foundation
import TensorCore

/// Expectation-maximization for a diagonal Gaussian mixture: the classical answer the
/// amortized posterior is compared with.
public enum GaussianMixtureEM {
    /// The standard deviation of each column of `x` (1 where a column does not vary): where a
    /// mixture's scales start, so that data in any units start with components that see them.
    public static func columnSpread(_ x: Tensor) -> Tensor {
        let deviation = sqrt(square(x - x.mean(axis: 0)).mean(axis: 0))
        return select(deviation .> 0, deviation, Tensor(1))
    }

    /// Weights, locations and variances after at most `iterations` EM steps from the given
    /// locations (variances starting at each column's variance), stopping once a step gains less
    /// than 1e-7 nats per point, and the mean log-likelihood per point of those returned.
    public static func fit(_ x: Tensor, locs initialLocs: Tensor, iterations: Int = 500) -> (weights: Tensor, locs: Tensor, variances: Tensor, logLikelihood: Float) {
        let k = initialLocs.shape[0]
        var weights = Tensor.ones([k]) / Float(k)
        var locs = initialLocs
        var variances = square(columnSpread(x)).expanded(to: initialLocs.shape)
        // log w_k + log N(x_n; mu_k, diag sigma_k^2), and its log-sum-exp over k.
        func scores() -> (joint: Tensor, marginal: Tensor) {
            let centered = x.unsqueezed(axis: 1) - locs
            let joint = log(weights) - 0.5 * (log(2 * Float.pi * variances) + centered * centered / variances).sum(axis: -1)
            return (joint, joint.logSumExp(axis: 1, keepDims: true))
        }
        var logLikelihood: Float = 0
        var converged = false
        for iteration in 0..<iterations {
            let (joint, marginal) = scores()
            let previous = logLikelihood
            logLikelihood = marginal.mean().scalar
            if iteration > 0, abs(logLikelihood - previous) < 1e-7 {
                converged = true
                break
            }
            let responsibility = exp(joint - marginal)
            let counts = clamp(responsibility.sum(axis: 0), min: 1e-6)
            weights = counts / Float(x.shape[0])
            locs = matmul(responsibility, x, transposeA: true) / counts.unsqueezed(axis: 1)
            variances = clamp(matmul(responsibility, x * x, transposeA: true) / counts.unsqueezed(axis: 1) - locs * locs, min: 0) + 1e-6
        }
        // Out of iterations, the last update has not been scored yet.
        if !converged, iterations > 0 { logLikelihood = scores().marginal.mean().scalar }
        return (weights, locs, variances, logLikelihood)
    }

    /// The best of `starts` EM runs: the first from `locs`, the others from k-means++ seeds
    /// (each next center a data point drawn with probability proportional to its squared
    /// distance from the nearest center so far). EM finds local optima; one start is not
    /// enough for a reference.
    public static func bestOfStarts(_ x: Tensor, locs: Tensor, starts: Int = 10, iterations: Int = 500, seed: UInt64 = 0) -> (weights: Tensor, locs: Tensor, variances: Tensor, logLikelihood: Float) {
        var generator = RandomGenerator(seed: seed)
        var best = fit(x, locs: locs, iterations: iterations)
        for _ in 1..<max(starts, 1) {
            let candidate = fit(x, locs: kMeansPlusPlusSeeds(x, count: locs.shape[0], using: &generator), iterations: iterations)
            if candidate.logLikelihood > best.logLikelihood || !best.logLikelihood.isFinite { best = candidate }
        }
        return best
    }

    /// `count` rows of `x` chosen by k-means++ (in units of each column's spread).
    static func kMeansPlusPlusSeeds(_ x: Tensor, count: Int, using generator: inout RandomGenerator) -> Tensor {
        let scaled = x / columnSpread(x)
        let rows = x.shape[0]
        var chosen = [Int(generator.next() % UInt64(rows))]
        while chosen.count < count {
            let centers = scaled[Tensor(chosen.map(Float.init))]
            let distances = -(-square(scaled.unsqueezed(axis: 1) - centers).sum(axis: -1)).max(axis: 1)
            chosen.append(Int(Tensor.randomCategorical(probabilities: distances + 1e-12, using: &generator).scalar))
        }
        return x[Tensor(chosen.map(Float.init))]
    }
}

import Latent

extension ModelCatalog {
    /// Gaussian mixture: a component z per point with learned weights, and a diagonal Gaussian
    /// per component with learned locations and scales.
    public static let gmm = ShippedModel(
        name: "gmm", summary: "Gaussian mixture, K components in D dimensions (learned weights, locations, scales)",
        data: .points, epochs: 75, batchSize: 256, learningRate: 0.01,
        build: { settings in
            let (k, d) = (settings.components, settings.dataSize)
            return Model("gmm") { (x: Tensor, datasetSize: Int) in
                let weights = param("weights", Tensor.ones([k]) / Float(k), constraint: .simplex)
                let locs = param("locs", initializer: { generator in x[Tensor.randomCategorical(probabilities: Tensor.ones([k, x.shape[0]]), using: &generator)] })
                let scales = param("scales", Tensor.ones([k, d]), constraint: .positive)
                plate("data", size: datasetSize, subsample: x) {
                    let z = latent("z") ~ Categorical(probs: weights)
                    observe("x", x) ~ Normal(locs[z], scales[z]).independent(1)
                }
            }
        },
        compilerOptions: { _ in CompilerOptions(hiddenSizes: [32], activation: .tanh) })
}

/// Expectation-maximization for a diagonal Gaussian mixture: the classical answer the
/// amortized posterior is compared with.
public enum GaussianMixtureEM {
    /// Weights, locations and variances after `iterations` EM steps from the given start, and
    /// the mean log-likelihood per point of the last step.
    public static func fit(_ x: Tensor, locs initialLocs: Tensor, iterations: Int = 500) -> (weights: Tensor, locs: Tensor, variances: Tensor, logLikelihood: Float) {
        let k = initialLocs.shape[0]
        var weights = Tensor.ones([k]) / Float(k)
        var locs = initialLocs
        var variances = Tensor.ones(initialLocs.shape)
        var logLikelihood: Float = 0
        for _ in 0..<iterations {
            let centered = x.unsqueezed(axis: 1) - locs
            let joint = log(weights) - 0.5 * (log(2 * Float.pi * variances) + centered * centered / variances).sum(axis: -1)
            let marginal = joint.logSumExp(axis: 1, keepDims: true)
            logLikelihood = marginal.mean().scalar
            let responsibility = exp(joint - marginal)
            let counts = responsibility.sum(axis: 0)
            weights = counts / Float(x.shape[0])
            locs = matmul(responsibility, x, transposeA: true) / counts.unsqueezed(axis: 1)
            variances = matmul(responsibility, x * x, transposeA: true) / counts.unsqueezed(axis: 1) - locs * locs + 1e-6
        }
        return (weights, locs, variances, logLikelihood)
    }
}

import Latent
import LatentCommandLine

extension ModelCatalog {
    /// Gaussian mixture: a component z per point with learned weights, and a diagonal Gaussian
    /// per component with learned locations and scales.
    public static let gmm = CommandModel(
        name: "gmm", summary: "Gaussian mixture, K components in D dimensions (learned weights, locations, scales)",
        data: .points, epochs: 75, batchSize: 256, learningRate: 0.01,
        options: [ModelOption("components", default: 3, in: 2...1000, help: "mixture components K")],
        build: { settings in
            let (k, d) = (settings["components"], settings.dataSize)
            return Model("gmm") { (x: Tensor, datasetSize: Int) in
                let weights = param("weights", Tensor.ones([k]) / Float(k), constraint: .simplex)
                let locs = param("locs", initializer: { generator in x[Tensor.randomCategorical(probabilities: Tensor.ones([k, x.shape[0]]), using: &generator)] })
                let scales = param("scales", initializer: { _ in GaussianMixtureEM.columnSpread(x).expanded(to: [k, d]) }, constraint: .positive)
                plate("data", size: datasetSize, subsample: x) {
                    let z = latent("z") ~ Categorical(probs: weights)
                    observe("x", x) ~ Normal(locs[z], scales[z]).independent(1)
                }
            }
        },
        compilerOptions: { _ in CompilerOptions(hiddenSizes: [32], activation: .tanh) })
}

import Latent
import LatentCommandLine

extension ModelCatalog {
    /// Probabilistic PCA: z ~ N(0, I_q), x ~ N(z W + mu, sigma^2 I); its maximum likelihood and
    /// posterior are known in closed form (Tipping & Bishop 1999).
    public static let ppca = CommandModel(
        name: "ppca", summary: "probabilistic PCA, the linear-Gaussian latent model (closed-form answers)",
        data: .points, epochs: 100, batchSize: 100, learningRate: 0.02,
        options: [ModelOption("latent-dim", in: 1...4096, help: "dimension of the latent z (default: 2, or D - 1 when D is 2 or less)") { d in min(2, max(d - 1, 1)) }],
        build: { settings in
            let (q, d) = (settings["latent-dim"], settings.dataSize)
            return Model("ppca") { (x: Tensor, datasetSize: Int) in
                let weights = param("weights", initializer: { Tensor.randomNormal([q, d], using: &$0) * 0.1 })
                let mean = param("mean", initializer: { _ in x.mean(axis: 0) })
                let noise = param("noise", initializer: { _ in GaussianMixtureEM.columnSpread(x).mean() }, constraint: .positive)
                plate("data", size: datasetSize, subsample: x) {
                    let z = latent("z") ~ Normal(0, 1).expanded(to: [q]).independent(1)
                    observe("x", x) ~ Normal(matmul(z, weights) + mean, noise).independent(1)
                }
            }
        },
        compilerOptions: { _ in CompilerOptions(hiddenSizes: []) })
}

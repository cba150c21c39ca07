import Latent
import LatentCommandLine

extension ModelCatalog {
    /// Kingma & Welling's Frey Face model: z ~ N(0, I), x ~ N(decoder(z), sigma^2) per pixel,
    /// with a learned per-pixel standard deviation.
    public static let gaussianVAE = CommandModel(
        name: "gaussian-vae", summary: "variational autoencoder for real-valued images, Gaussian decoder with learned per-pixel scale",
        data: .images, epochs: 50, batchSize: 100, learningRate: 1e-3, options: [latentDimension, hidden],
        build: { settings in
            let sizes = [settings["latent-dim"], settings["hidden"], settings.dataSize]
            return Model("gaussian-vae") { (x: Tensor, datasetSize: Int) in
                let decoder = module("decoder", MLP(sizes, activation: .tanh, outputActivation: .sigmoid))
                let scale = param("pixel scale", Tensor.full([sizes[2]], 0.1), constraint: .positive)
                plate("data", size: datasetSize, subsample: x) {
                    let z = latent("z") ~ Normal(0, 1).expanded(to: [sizes[0]]).independent(1)
                    observe("x", x) ~ Normal(decoder(z), scale).independent(1)
                }
            }
        },
        compilerOptions: { settings in CompilerOptions(hiddenSizes: [settings["hidden"]], activation: .tanh) })
}

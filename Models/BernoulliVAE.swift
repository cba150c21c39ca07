import Latent
import LatentCommandLine

extension ModelCatalog {
    /// Kingma & Welling's MNIST model: z ~ N(0, I), x ~ Bernoulli(decoder(z)) per pixel.
    public static let bernoulliVAE = CommandModel(
        name: "bernoulli-vae", summary: "variational autoencoder for binary images (Kingma & Welling's MNIST model)",
        data: .binaryImages, epochs: 10, batchSize: 128, learningRate: 1e-3, options: [latentDimension, hidden],
        build: { settings in
            let sizes = [settings["latent-dim"], settings["hidden"], settings.dataSize]
            return Model("bernoulli-vae") { (x: Tensor, datasetSize: Int) in
                let decoder = module("decoder", MLP(sizes, activation: .relu))
                plate("data", size: datasetSize, subsample: x) {
                    let z = latent("z") ~ Normal(0, 1).expanded(to: [sizes[0]]).independent(1)
                    observe("x", x) ~ Bernoulli(logits: decoder(z)).independent(1)
                }
            }
        },
        compilerOptions: { settings in CompilerOptions(hiddenSizes: [settings["hidden"]], activation: .relu) })
}

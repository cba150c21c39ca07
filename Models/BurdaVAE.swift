import Latent
import LatentCommandLine

extension ModelCatalog {
    /// The VAE of Burda, Grosse & Salakhutdinov (2015), Table 1: z ~ N(0, I) of 50 units,
    /// x ~ Bernoulli(decoder(z)) with decoder and encoder both 784-200-200 tanh networks.
    public static let burdaVAE = CommandModel(
        name: "burda-vae", summary: "VAE of Burda et al. (2015), Table 1: 50 latent units, 784-200-200 tanh encoder and decoder",
        data: .binaryImages, epochs: 3280, batchSize: 20, learningRate: 1e-3,
        options: [ModelOption("latent-dim", default: 50, in: 1...4096, help: "dimension of the latent z"),
                  ModelOption("hidden", default: 200, in: 1...65536, help: "units of each of the two hidden layers of the decoder and of the encoder")],
        build: { settings in
            let sizes = [settings["latent-dim"], settings["hidden"], settings["hidden"], settings.dataSize]
            return Model("burda-vae") { (x: Tensor, datasetSize: Int) in
                let decoder = module("decoder", MLP(sizes, activation: .tanh))
                plate("data", size: datasetSize, subsample: x) {
                    let z = latent("z") ~ Normal(0, 1).expanded(to: [sizes[0]]).independent(1)
                    observe("x", x) ~ Bernoulli(logits: decoder(z)).independent(1)
                }
            }
        },
        compilerOptions: { settings in CompilerOptions(hiddenSizes: [settings["hidden"], settings["hidden"]], activation: .tanh) })
}

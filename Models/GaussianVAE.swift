import Latent
import LatentCommandLine

extension ModelCatalog {
    /// Kingma & Welling's Frey Face model as their appendix C.2 defines it:
    /// z ~ N(0, I), x ~ N(g(z), sigma^2(z) I), one network giving the mean and the log-variance of each pixel.
    public static let gaussianVAE = CommandModel(
        name: "gaussian-vae", summary: "variational autoencoder for real-valued images, Gaussian decoder with a mean and a variance per pixel from z",
        data: .images, epochs: 50, batchSize: 100, learningRate: 1e-3, options: [latentDimension, hidden],
        build: { settings in
            let (q, h, d) = (settings["latent-dim"], settings["hidden"], settings.dataSize)
            return Model("gaussian-vae") { (x: Tensor, datasetSize: Int) in
                let decoder = module("decoder", MLP([q, h, 2 * d], activation: .tanh))
                plate("data", size: datasetSize, subsample: x) {
                    let z = latent("z") ~ Normal(0, 1).expanded(to: [q]).independent(1)
                    let output = decoder(z)
                    let mean = sigmoid(output.slice(axis: -1, 0..<d))
                    let scale = exp(0.5 * output.slice(axis: -1, d..<(2 * d)))
                    observe("x", x) ~ Normal(mean, scale).independent(1)
                }
            }
        },
        compilerOptions: { settings in CompilerOptions(hiddenSizes: [settings["hidden"]], activation: .tanh) })

    /// The same with one learned standard deviation per pixel that does not depend on z.
    public static let gaussianVAEPixelScale = CommandModel(
        name: "gaussian-vae-pixel-scale", summary: "variational autoencoder for real-valued images, Gaussian decoder with one learned scale per pixel",
        data: .images, epochs: 50, batchSize: 100, learningRate: 1e-3, options: [latentDimension, hidden],
        build: { settings in
            let sizes = [settings["latent-dim"], settings["hidden"], settings.dataSize]
            return Model("gaussian-vae-pixel-scale") { (x: Tensor, datasetSize: Int) in
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

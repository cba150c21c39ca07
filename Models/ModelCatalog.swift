import Latent
import LatentCommandLine

/// The shipped models, each declared in its own file like a user's model. To add one, write a
/// file like `GMM.swift` and add its line here.
public enum ModelCatalog {
    public static let all: [CommandModel] = [
        gmm,
        gaussianVAE,
        gaussianVAEPixelScale,
        bernoulliVAE,
        burdaVAE,
        ppca,
    ]

    /// The model called `name`.
    public static func named(_ name: String) -> CommandModel? { all.first { $0.name == name } }

    /// `--latent-dim`: the size of the continuous latent z of the autoencoders.
    static let latentDimension = ModelOption("latent-dim", default: 20, in: 1...4096, help: "dimension of the latent z")
    /// `--hidden`: hidden units of the autoencoders' decoder and encoder.
    static let hidden = ModelOption("hidden", default: 400, in: 1...65536, help: "hidden units of the decoder and of the encoder")
}

// The library a user imports: `import Latent` brings every layer's public API.
@_exported import TensorCore
@_exported import Distributions
@_exported import NN
@_exported import PPL
@_exported import Optim
@_exported import Inference
@_exported import Datasets
@_exported import Plot

// swift-tools-version:6.0
import PackageDescription

// MARK: - Layers (see README, "Architecture"): each target imports only those below it.

let package = Package(
    name: "Latent",
    products: [
        .library(name: "Latent", targets: ["Latent"]),
        .library(name: "LatentCommandLine", targets: ["LatentCommandLine"]),
        .library(name: "LatentModels", targets: ["LatentModels"]),
        .executable(name: "latent", targets: ["LatentCommand"]),
    ],
    targets: [
        // MARK: Kernels
        .target(name: "CKernels"),

        // MARK: Tensor, autodiff, randomness
        .target(name: "TensorCore", dependencies: ["CKernels"]),

        // MARK: Distributions, constraints, bijectors, KL divergences
        .target(name: "Distributions", dependencies: ["TensorCore"]),

        // MARK: Neural-network layers
        .target(name: "NN", dependencies: ["TensorCore"]),

        // MARK: Optimizers
        .target(name: "Optim", dependencies: ["CKernels", "TensorCore"]),

        // MARK: Modeling language: sites, plates, effect handlers
        .target(name: "PPL", dependencies: ["TensorCore", "Distributions", "NN"]),

        // MARK: Inference: the guide compiler, ELBO estimators, training, evaluation
        .target(name: "Inference", dependencies: ["CKernels", "TensorCore", "Distributions", "NN", "Optim", "PPL"]),

        // MARK: Data sets: IDX (with gzip), CSV, NPY
        .target(name: "Datasets", dependencies: ["CKernels", "TensorCore"]),

        // MARK: Pictures: PNG and SVG
        .target(name: "Plot", dependencies: ["CKernels", "TensorCore"]),

        // MARK: Umbrella library and command
        .target(name: "Latent", dependencies: ["TensorCore", "Distributions", "NN", "Optim", "PPL", "Inference", "Datasets", "Plot"]),
        .target(
            name: "LatentCommandLine", dependencies: ["Latent", "CKernels", "TensorCore"],
            exclude: ["Resources/README.md"], resources: [.copy("Resources/mnist-t10k-images-idx3-ubyte.gz")]),
        .target(name: "LatentModels", dependencies: ["Latent", "LatentCommandLine"], path: "Models"),
        .executableTarget(name: "LatentCommand", dependencies: ["LatentCommandLine", "LatentModels"]),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["CKernels", "TensorCore", "TestSupport"]),
        .testTarget(name: "DistributionsTests", dependencies: ["Distributions", "TestSupport"], exclude: ["Reference"]),
        .testTarget(name: "PPLTests", dependencies: ["PPL", "Distributions", "NN", "TestSupport"]),
        .testTarget(name: "InferenceTests", dependencies: ["CKernels", "Inference", "PPL", "Distributions", "NN", "Optim", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CKernels", "TensorCore"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot", "Datasets", "CKernels", "TensorCore"]),
        .testTarget(name: "ModelsTests", dependencies: ["Latent", "LatentCommandLine", "LatentModels"]),
        .testTarget(name: "LatentCommandTests"),
        .testTarget(name: "ZooTests", dependencies: ["Latent"]),
    ]
)

// swift-tools-version:6.0
import PackageDescription

// The readers and the checkpoint loader under libFuzzer, outside the test suite: see
// `.ci/fuzz.sh`, which builds this with coverage instrumentation and AddressSanitizer.
let package = Package(
    name: "LatentFuzz",
    dependencies: [.package(name: "Latent", path: "../..")],
    targets: [
        .executableTarget(name: "LatentFuzz", dependencies: [.product(name: "Latent", package: "Latent")]),
    ]
)

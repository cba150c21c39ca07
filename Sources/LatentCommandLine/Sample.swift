import Foundation
import Latent

/// `latent sample CHECKPOINT`: images decoded from prior draws.
struct Sample: Subcommand {
    static let name = "sample"
    static let summary = "draw samples from a trained image model's generative model"
    static let flags: [Flag] = [.value("n", "number of samples, 1...10000 (default 64)"), .value("out", "PNG file (default samples.png)"), .value("seed", "random seed, 0...2147483647 (default 0)")]
    static let positionals = ["CHECKPOINT"]
    static let usage = "Usage: latent sample CHECKPOINT [--n N] [--out FILE.png] [--seed S] [--json]"

    let arguments: ParsedArguments
    let models: Models

    func run(output: Output) throws -> [String: Any] {
        let path = try outputFile(arguments.text("out") ?? "samples.png", flag: "out", reading: [arguments.positional[0]])
        let restored = try Restored(arguments.positional[0], models: models)
        guard restored.model.data != .points else { throw UsageError("'\(restored.model.name)' is not an image model; `latent sample` draws images") }
        try restored.compile(on: restored.zeroRows)
        let imageShape = try restored.imageShape()
        let pictures = Pictures(inference: restored.inference, dataSize: restored.settings.dataSize, imageShape: imageShape, invert: restored.model.data == .binaryImages)
        let count = try arguments.integer("n", default: 64, in: 1...10_000)
        try pictures.samples(count, seed: UInt64(try arguments.integer("seed", default: 0, in: 0...Int(Int32.max)))).write(to: path)
        output.human("wrote \(count) samples to \(path)")
        return ["path": path, "n": count]
    }
}

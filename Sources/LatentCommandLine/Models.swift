import Foundation
import Latent

/// `latent models`: the models this command serves, with their options.
struct ListModels: Subcommand {
    let models: Models

    static let name = "models"
    static let summary = "list the models and their options"
    static let flags: [Flag] = []
    static let usage = "Usage: latent models [--json]\n\nLists the models `latent train` knows by name."

    init(arguments: ParsedArguments, models: Models) throws { self.models = models }

    func run(output: Output) throws -> [String: Any] {
        let nameWidth = (models.all.map(\.name.count).max() ?? 0) + 2
        let flagWidth = (models.all.flatMap(\.flags).map(\.name.count).max() ?? 0) + 2
        for model in models.all {
            output.human(model.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + model.summary)
            for flag in model.flags { output.human("    --" + flag.name.padding(toLength: flagWidth, withPad: " ", startingAt: 0) + flag.help) }
        }
        let options = models.all.map { model in
            (model.name, model.options.map { option -> [String: Any] in
                var entry: [String: Any] = ["name": option.name, "help": option.help, "range": [option.range.lowerBound, option.range.upperBound]]
                if let fixed = option.fixedDefault { entry["default"] = fixed }
                return entry
            })
        }
        return ["models": models.all.map(\.name), "options": Dictionary(uniqueKeysWithValues: options)]
    }
}

/// Loads `--data` for `model` (the bundled data when nil), with the CSV columns `columns`;
/// says on `output` which columns of a CSV file were left out.
func loadData(_ path: String?, for model: CommandModel, columns: [String]? = nil, output: Output? = nil) throws -> Dataset {
    guard let path else {
        guard columns == nil else { throw UsageError("--columns chooses columns of a CSV file given with --data") }
        switch model.data {
        case .points: return syntheticMixture()
        default: return try bundledImages()
        }
    }
    guard !path.isEmpty else { throw UsageError("--data is empty; give a file or folder of data") }
    let data = try Dataset.load(path, columns: columns, notice: { output?.human($0) })
    // Binarizing other numbers would train on something else without a word.
    if model.data == .binaryImages, let bad = try data.train.firstValueOutsideUnitInterval().map({ ($0.value, data.trainRows[$0.row]) }) ?? data.test.firstValueOutsideUnitInterval().map({ ($0.value, data.testRows[$0.row]) }) {
        throw UsageError("'\(model.name)' models binary images, binarized from grey levels in [0, 1], but \(path) holds \(bad.0) in data row \(bad.1 + 1) (counting from 1, without a header); give images (an MNIST folder, or rows of values in [0, 1]), or use a model of real numbers")
    }
    if !data.skippedColumns.isEmpty { output?.human("left out of \(path): " + data.skippedColumns.joined(separator: ", ")) }
    return data
}

/// The names given to `--columns`, split at commas.
func columnList(_ text: String?) -> [String]? {
    text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
}

/// The bundled MNIST test images: the first 9,000 for training, the last 1,000 held out.
func bundledImages() throws -> Dataset {
    guard let url = resourceBundle()?.url(forResource: "mnist-t10k-images-idx3-ubyte", withExtension: "gz") else {
        throw UsageError("the bundled MNIST images are missing (no \(resourceBundleName) beside this program or in its package's .build); pass --data PATH")
    }
    let images = try IDXFile.read(url.path, scale: 1.0 / 255)
    let rows = images.reshaped(to: [images.shape[0], -1])
    return Dataset(train: rows.slice(axis: 0, 0..<9_000), test: rows.slice(axis: 0, 9_000..<10_000), imageShape: Array(images.shape.suffix(2)), source: "bundled MNIST test images")
}

let resourceBundleName = "Latent_LatentCommandLine.resources"

/// The bundle of this target's resources, where the package manager puts it (beside the
/// program, or in the build folders of the package it was built in), or nil. `Bundle.module`
/// looks in the same places but stops the program when it finds none.
func resourceBundle() -> Bundle? {
    let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let build = package.appendingPathComponent(".build")
    let platforms = (try? FileManager.default.contentsOfDirectory(atPath: build.path)) ?? []
    let folders = [Bundle.main.bundleURL] + (platforms.sorted().map { build.appendingPathComponent($0) } + [build]).flatMap { folder in
        ["release", "debug"].map { folder.appendingPathComponent($0) }
    }
    for folder in folders {
        let candidate = folder.appendingPathComponent(resourceBundleName)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder), isFolder.boolValue, let bundle = Bundle(url: candidate) { return bundle }
    }
    return nil
}

/// 10,000 points from the mixture of `shared/peers/gmm_pyro.py` (weights 0.5, 0.3, 0.2), drawn
/// with Latent's seeded generator; the last 10% held out.
func syntheticMixture() -> Dataset {
    var generator = RandomGenerator(seed: 0)
    let components = Tensor.randomCategorical(probabilities: Tensor([0.5, 0.3, 0.2]).expanded(to: [10_000, 3]), using: &generator)
    let locs = Tensor([[0, 0], [3, 1], [-1, 3]]), scales = Tensor([[1, 0.7], [0.6, 1], [0.8, 0.5]])
    let points = locs[components] + scales[components] * Tensor.randomNormal([10_000, 2], using: &generator)
    return Dataset(train: points.slice(axis: 0, 0..<9_000), test: points.slice(axis: 0, 9_000..<10_000), imageShape: nil, source: "bundled synthetic mixture (3 Gaussians in 2-D)")
}

/// `latent explain MODEL`: the compiled guide plan.
struct Explain: Subcommand {
    static let name = "explain"
    static let summary = "print the guide the compiler derives for a model"
    static let flags: [Flag] = [
        .value("data-size", "numbers per data row, 1...1000000 (default 784, points 2)"),
        .value("data", "a data file or folder: the model is compiled on its first rows, and its rows give the data size (default: two rows of zeros)"),
        .value("columns", "the columns of a CSV file to use, comma-separated (default: its numeric columns)"),
    ]
    static let positionals = ["MODEL"]
    static let takesModelOptions = true
    static let usage = "Usage: latent explain MODEL [--data-size N | --data PATH [--columns A,B]] [the model's options] [--json]\n\nPrints, per latent site, the head, its input, family, bijector, estimator and parameter count."

    let model: CommandModel
    let settings: ModelSettings
    /// The rows the model is compiled on: the data's first, or two rows of zeros.
    let example: Tensor
    let compilesOnZeros: Bool

    init(arguments: ParsedArguments, models: Models) throws {
        model = try models.named(arguments.positional[0])
        if let path = arguments.text("data") {
            guard !arguments.has("data-size") else { throw UsageError("--data-size and --data: the data's rows give their size; give one of them") }
            let data = try loadData(path, for: model, columns: columnList(arguments.text("columns")))
            let rows = model.data == .binaryImages ? data.train.thresholded() : data.train
            example = try rows.rows(0..<Swift.min(2, rows.rowCount))
            compilesOnZeros = false
            settings = try model.settings(dataSize: rows.rowSize, of: data.source, from: arguments)
        } else {
            guard !arguments.has("columns") else { throw UsageError("--columns chooses columns of a CSV file given with --data") }
            let dataSize = try arguments.integer("data-size", default: model.data == .points ? 2 : 784, in: 1...1_000_000)
            settings = try model.settings(dataSize: dataSize, of: "--data-size", from: arguments)
            example = Tensor.zeros([2, settings.dataSize])
            compilesOnZeros = true
        }
    }

    func run(output: Output) throws -> [String: Any] {
        let vi = Amortized(model.build(settings), options: model.compilerOptions(settings))
        let plan: GuidePlan
        do {
            plan = try vi.compile(example: example, datasetSize: example.shape[0])
        } catch where compilesOnZeros {
            throw UsageError("\(error) (compiled on two rows of zeros, \(settings.dataSize) numbers wide: where the model needs values of its data, give --data FILE to compile it on your rows)")
        }
        output.human(plan.description)
        return ["model": model.name, "sites": plan.sites.map { site in
            ["site": site.name, "scope": site.plate == nil ? "global" : "local", "input": site.inputDescription, "family": site.family.description,
             "bijector": site.bijectorName, "estimator": site.estimator.description, "parameters": site.parameterCount] as [String: Any]
        }]
    }
}

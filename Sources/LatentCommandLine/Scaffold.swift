import Foundation
import TensorCore

/// `latent init DIR`: a ready Swift package of one's own models, with the whole `latent`
/// command for them.
struct Scaffold: Subcommand {
    static let name = "init"
    static let summary = "write a new package for your own models (Package.swift, a model file, a README)"
    static let flags: [Flag] = [
        .value("name", "the package and command name (default: the folder's name)"),
        .value("latent", "where Latent is: a folder or a git URL (default: the checkout this command was built from)"),
    ]
    static let positionals = ["DIR"]
    static let usage = """
        Usage: latent init DIR [--name NAME] [--latent PATH|URL] [--json]

        Writes DIR/Package.swift (depending on Latent), DIR/Sources/NAME/FactorAnalysis.swift
        (a model to start from), DIR/Sources/NAME/main.swift (the command for your models) and
        DIR/README.md. Then, in DIR: `swift run -c release NAME train factor-analysis`.
        DIR must be new or empty.
        """

    let arguments: ParsedArguments

    init(arguments: ParsedArguments, models: Models) throws {
        self.arguments = arguments
    }

    func run(output: Output) throws -> [String: Any] {
        let folder = URL(fileURLWithPath: arguments.positional[0]).standardizedFileURL
        let name = arguments.text("name") ?? Self.packageName(from: folder.lastPathComponent)
        guard Self.isPackageName(name) else {
            throw UsageError("'\(name)' cannot name a package; give --name with up to 100 letters, digits and dashes, starting with a letter")
        }
        guard !Self.takenModuleNames.contains(where: { $0.lowercased() == name.lowercased() }) else {
            throw UsageError("'\(name)' names a module or product the package builds with (Latent's or the toolchain's), in some case; give --name another name")
        }
        let dependency = try Self.latentDependency(arguments.text("latent"))
        let existed = try Self.requireNewOrEmpty(folder)
        let files = [
            "Package.swift": Self.manifest(name: name, dependency: dependency),
            "Sources/\(name)/main.swift": Self.mainFile,
            "Sources/\(name)/FactorAnalysis.swift": Self.modelFile,
            "README.md": Self.readme(name: name),
            ".gitignore": ".build/\n.swiftpm/\nruns/\n",
        ]
        do {
            for (path, text) in files.sorted(by: { $0.key < $1.key }) {
                let file = folder.appendingPathComponent(path)
                try OutputFolder.create(file.deletingLastPathComponent().path)
                try writeText(text, to: file.path)
            }
        } catch {
            let made = existed ? ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).map { folder.appendingPathComponent($0) } : [folder]
            for item in made { try? FileManager.default.removeItem(at: item) }
            throw error
        }
        output.human("""
            wrote a package for your models in \(folder.path); next:
              cd \(folder.path)
              swift run -c release \(name) train factor-analysis
            """)
        return ["folder": folder.path, "name": name, "files": files.keys.sorted()]
    }

    /// A package name from a folder name: lower case, runs of other characters made one dash.
    static func packageName(from folderName: String) -> String {
        let words = folderName.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return words.joined(separator: "-")
    }

    /// The modules and products a package made here builds with, whose names its own command
    /// cannot take, in any case: Latent's (see its Package.swift; its command is `latent`) and
    /// the toolchain's.
    static let takenModuleNames: Set<String> = [
        "Latent", "LatentCommandLine", "LatentModels", "LatentCommand", "CKernels", "TensorCore", "Distributions", "NN", "Optim", "PPL",
        "Inference", "Datasets", "Plot", "Swift", "SwiftShims", "SwiftGlibc", "SwiftOnoneSupport", "Foundation", "FoundationEssentials",
        "FoundationInternationalization", "FoundationNetworking", "FoundationXML", "CoreFoundation", "Dispatch", "Synchronization",
        "Distributed", "Observation", "RegexBuilder", "Cxx", "CxxStdlib", "XCTest", "Testing", "Glibc", "Musl", "Darwin",
    ]

    static func isPackageName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter, name.count <= 100 else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// How the new package depends on Latent: `.package(...)` and the package identity SwiftPM gives it.
    static func latentDependency(_ given: String?) throws -> (declaration: String, identity: String) {
        if let given, given.contains("://") || given.hasPrefix("git@") {
            let identity = URL(string: given)?.deletingPathExtension().lastPathComponent ?? given
            return (".package(url: \(swiftLiteral(given)), branch: \"main\")", identity.lowercased())
        }
        let folder: URL
        if let given {
            folder = URL(fileURLWithPath: given).standardizedFileURL
        } else {
            folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        let manifest = (try? String(contentsOf: folder.appendingPathComponent("Package.swift"), encoding: .utf8)) ?? ""
        guard manifest.contains("name: \"Latent\"") else {
            throw UsageError(given == nil
                ? "the Latent sources this command was built from are not at \(folder.path); give --latent with the folder of a Latent checkout or its git URL"
                : "\(folder.path) is not a Latent checkout (no Package.swift naming the package Latent)")
        }
        return (".package(path: \(swiftLiteral(folder.path)))", folder.lastPathComponent.lowercased())
    }

    /// Whether `folder` exists (empty); refuses a folder with something in it, or a file in the way.
    static func requireNewOrEmpty(_ folder: URL) throws -> Bool {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) else { return false }
        guard isFolder.boolValue else { throw UsageError("\(folder.path) is a file; `latent init` needs a new or empty folder") }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        guard contents.isEmpty else {
            throw UsageError("\(folder.path) is not empty (it holds \(contents.sorted().prefix(3).joined(separator: ", "))); `latent init` writes only into a new or empty folder")
        }
        return true
    }

    /// `text` as a Swift string literal.
    static func swiftLiteral(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func manifest(name: String, dependency: (declaration: String, identity: String)) -> String {
        """
        // swift-tools-version:6.0
        import PackageDescription

        let package = Package(
            name: \(swiftLiteral(name)),
            dependencies: [\(dependency.declaration)],
            targets: [
                .executableTarget(
                    name: \(swiftLiteral(name)),
                    dependencies: [
                        .product(name: "Latent", package: \(swiftLiteral(dependency.identity))),
                        .product(name: "LatentCommandLine", package: \(swiftLiteral(dependency.identity))),
                    ]),
            ]
        )

        """
    }

    static let mainFile = """
        import LatentCommandLine

        // Every `latent` subcommand (train, eval, explain, models, ...) for the models listed here.
        CommandLineTool.main(models: [factorAnalysis])

        """

    static let modelFile = """
        import Latent
        import LatentCommandLine

        /// Factor analysis: z ~ N(0, I_k), x ~ N(z W + mu, diag(sigma^2)), one noise scale per column.
        let factorAnalysis = CommandModel(
            name: "factor-analysis", summary: "factor analysis: z ~ N(0, I_k), x ~ N(z W + mu, diag(sigma^2))",
            data: .points, epochs: 50, batchSize: 100, learningRate: 0.02,
            options: [ModelOption("factors", in: 1...1000, help: "latent factors k (default: half the columns, at least 1)") { columns in max(1, columns / 2) }],
            build: { settings in
                let (k, d) = (settings["factors"], settings.dataSize)
                return Model("factor-analysis") { (x: Tensor, rows: Int) in
                    let loadings = param("loadings", initializer: { Tensor.randomNormal([k, d], using: &$0) * 0.1 })
                    let mean = param("mean", initializer: { _ in x.mean(axis: 0) })
                    let noise = param("noise", Tensor.ones([d]), constraint: .positive)
                    plate("data", size: rows, subsample: x) {
                        let z = latent("z") ~ Normal(0, 1).expanded(to: [k]).independent(1)
                        observe("x", x) ~ Normal(matmul(z, loadings) + mean, noise).independent(1)
                    }
                }
            },
            compilerOptions: { _ in CompilerOptions(hiddenSizes: [64]) })

        """

    static func readme(name: String) -> String {
        """
        # \(name)

        Models written with Latent: the amortized guide, the ELBO and the training loop are
        derived from each model file.

            swift run -c release \(name) train factor-analysis                   # on bundled 2-D points
            swift run -c release \(name) train factor-analysis --data your.csv   # on your own data

        Then `swift run -c release \(name) eval runs/factor-analysis/checkpoint.latent` scores it,
        and `swift run -c release \(name) --help` lists every command.

        To add a model, write a file like `Sources/\(name)/FactorAnalysis.swift` and add it to the
        list in `Sources/\(name)/main.swift`. Its `options` become flags of `train`
        (`--factors 3`), are stored in checkpoints and shown by `\(name) models`.

        """
    }
}

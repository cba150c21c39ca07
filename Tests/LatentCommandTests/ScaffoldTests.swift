import Foundation
import XCTest

/// `latent init` as a new user meets it: the package it writes builds against this checkout,
/// and its own command trains its own model with its own option.
final class ScaffoldTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: folder) }

    /// The shell block of the README's "Your first model file", run line by line as written,
    /// with `~/my-models` in a temporary folder, `swift run -c release latent` as the `latent`
    /// built for these tests and the new package built in debug (a release build of all of
    /// Latent would take minutes); then the new command on a CSV file with its own option.
    func testTheReadmeTutorialRunsAsWritten() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.components(separatedBy: "## Your first model file").dropFirst().first)
        let block = try XCTUnwrap(section.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
        let commands = block.split(separator: "\n").map { String($0.split(separator: "#")[0]).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        XCTAssertEqual(commands.count, 6)
        let package = folder.appendingPathComponent("my-models")
        let latent = LatentProcess.productsDirectory.appendingPathComponent("latent").path
        let command = package.appendingPathComponent(".build/debug/my-models").path
        var directory = FileManager.default.currentDirectoryPath
        for line in commands {
            let expanded = line.replacingOccurrences(of: "~/my-models", with: "'\(package.path)'")
            if expanded.hasPrefix("cd ") {
                directory = package.path
                continue
            }
            if expanded.hasPrefix("swift run -c release my-models"), !FileManager.default.fileExists(atPath: command) {
                let build = try LatentProcess.run(shell: "cd '\(package.path)' && swift build > build.log 2>&1 || { tail -30 build.log >&2; exit 1; }")
                XCTAssertEqual(build.status, 0, build.error.joined(separator: "\n"))
            }
            let shell = expanded.replacingOccurrences(of: "swift run -c release latent", with: "'\(latent)'")
                .replacingOccurrences(of: "swift run -c release my-models", with: "'\(command)'")
            let result = try LatentProcess.run(shell: "cd '\(directory)' && \(shell)")
            XCTAssertEqual(result.status, 0, line + "\n" + result.error.joined(separator: "\n"))
            if line.contains(" models") {
                XCTAssertEqual(result.out.first?.hasPrefix("factor-analysis"), true)
                XCTAssertEqual(result.out.dropFirst().first?.trimmingCharacters(in: .whitespaces).hasPrefix("--factors"), true)
            }
        }
        let run = package.appendingPathComponent("runs/factor-analysis")
        for file in ["checkpoint.latent", "metrics.jsonl", "elbo.svg", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), file)
        }
        let report = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<tr><th>--factors</th><td>1</td></tr>"))
        XCTAssertTrue(report.contains("The one coordinate of 'z' is active."), "the factor carries the points' main direction")

        let data = folder.appendingPathComponent("points.csv")
        var rows = ["a,b,c,d"]
        for row in 0..<300 {
            let z = Double(row % 17) / 8 - 1
            rows.append([2 * z + 1, -z, z + 0.5, 3].enumerated().map { String($0.element + 0.1 * sin(Double(row * 7 + $0.offset))) }.joined(separator: ","))
        }
        try rows.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let trained = try LatentProcess.run(executable: URL(fileURLWithPath: command), ["train", "factor-analysis", "--data", data.path, "--factors", "2", "--epochs", "1", "--out", out, "--json"])
        XCTAssertEqual(trained.status, 0, trained.error.joined(separator: "\n"))
        let figures = try JSONSerialization.jsonObject(with: Data(trained.out.last!.utf8)) as! [String: Any]
        XCTAssertEqual(figures["epochs"] as? Int, 1)
        XCTAssertTrue((figures["test_elbo"] as? Double)?.isFinite == true)
        let refused = try LatentProcess.run(executable: URL(fileURLWithPath: command), ["train", "factor-analysis", "--factors", "0"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.error, ["my-models: flag '--factors' of 'train' needs a whole number from 1 to 1000, got '0'"])
    }

    /// A model file of one's own whose likelihood needs its data's values: counts y over an
    /// exposure t, y ~ Poisson(t exp(0.4 + e)), e ~ N(0, 0.7). `eval` and `explain` compiled every
    /// model on rows of zeros, where the rate is 0, so a model that trained without a word could
    /// not be evaluated ("its tensors do not fit its model settings"). eval compiles on the rows
    /// it scores, and its importance-sampled log p(x) is the exact one (by quadrature here);
    /// explain says to give --data, and compiles on the data's rows when given it.
    func testAModelThatNeedsItsDataIsEvaluatedOnIt() throws {
        let package = folder.appendingPathComponent("counts")
        let made = try LatentProcess.run(["init", package.path])
        XCTAssertEqual(made.status, 0, made.error.joined(separator: "\n"))
        let sources = package.appendingPathComponent("Sources/counts")
        try """
            import Latent
            import LatentCommandLine

            let counts = CommandModel(
                name: "counts", summary: "Poisson counts over an exposure", data: .points, epochs: 30, batchSize: 50, learningRate: 0.02,
                build: { _ in Model("counts") { (x: Tensor, n: Int) in
                    let exposure = x.slice(axis: 1, 0..<1).reshaped(to: [-1])
                    let y = x.slice(axis: 1, 1..<2).reshaped(to: [-1])
                    plate("data", size: n, subsample: x) {
                        let e = latent("e") ~ Normal(Tensor(0), Tensor(0.7))
                        observe("y", y) ~ Poisson(rate: exposure * exp(0.4 + e))
                    }
                } },
                compilerOptions: { _ in CompilerOptions(hiddenSizes: [8]) })

            CommandLineTool.main(models: [counts])
            """.write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        for file in try FileManager.default.contentsOfDirectory(atPath: sources.path) where file != "main.swift" {
            try FileManager.default.removeItem(at: sources.appendingPathComponent(file))
        }
        let rows: [(exposure: Double, count: Double)] = (0..<200).map { i in
            let exposure: Double = 0.5 + Double(i % 10) * 0.25
            return (exposure, Double((i * 7) % 9))
        }
        let data = folder.appendingPathComponent("counts.csv")
        try (["exposure,count"] + rows.map { "\($0.exposure),\(Int($0.count))" }).joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let build = try LatentProcess.run(shell: "cd '\(package.path)' && swift build > build.log 2>&1 || { tail -30 build.log >&2; exit 1; }")
        XCTAssertEqual(build.status, 0, build.error.joined(separator: "\n"))
        let command = URL(fileURLWithPath: package.appendingPathComponent(".build/debug/counts").path)

        let zeros = try LatentProcess.run(executable: command, ["explain", "counts"])
        XCTAssertEqual(zeros.status, 2)
        XCTAssertEqual(zeros.error.count, 1)
        XCTAssertTrue(zeros.error.first?.hasSuffix("(compiled on two rows of zeros, 2 numbers wide: where the model needs values of its data, give --data FILE to compile it on your rows)") ?? false, "\(zeros.error)")
        let explained = try LatentProcess.run(executable: command, ["explain", "counts", "--data", data.path])
        XCTAssertEqual(explained.status, 0, explained.error.joined(separator: "\n"))
        XCTAssertTrue(explained.out.contains { $0.hasPrefix("  e ") }, "\(explained.out)")

        let out = folder.appendingPathComponent("run").path
        let trained = try LatentProcess.run(executable: command, ["train", "counts", "--data", data.path, "--out", out])
        XCTAssertEqual(trained.status, 0, trained.error.joined(separator: "\n"))
        let evaluated = try LatentProcess.run(executable: command, ["eval", out + "/checkpoint.latent", "--split", "all", "--iwae", "1000", "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.error.joined(separator: "\n"))
        let figures = try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(evaluated.out.last).utf8)) as! [String: Any]
        // log p(y) = log of the integral over e of Poisson(y; t exp(0.4 + e)) N(e; 0, 0.7^2).
        let step = 0.7 * 10 / 4000, logNormalizer = Foundation.log(0.7 * (2 * Double.pi).squareRoot())
        var exact = 0.0
        for row in rows {
            var terms: [Double] = []
            for i in -4000...4000 {
                let e = Double(i) * step
                let rate: Double = row.exposure * Foundation.exp(0.4 + e)
                let logPrior: Double = -0.5 * (e / 0.7) * (e / 0.7) - logNormalizer
                terms.append(row.count * Foundation.log(rate) - rate - lgamma(row.count + 1) + logPrior)
            }
            let top = terms.max()!
            let sum: Double = terms.map { Foundation.exp($0 - top) }.reduce(0, +)
            exact += top + Foundation.log(sum * step)
        }
        XCTAssertEqual(try XCTUnwrap(figures["log_likelihood"] as? Double), exact / Double(rows.count), accuracy: 0.01)
    }

    func testInitNamesThePackageAfterItsFolderAndRefusesAFolderInUse() throws {
        let spaced = folder.appendingPathComponent("My Models 2")
        let made = try LatentProcess.run(["init", spaced.path, "--json"])
        XCTAssertEqual(made.status, 0, made.error.joined(separator: "\n"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: spaced.appendingPathComponent("Sources/my-models-2/main.swift").path))
        let manifest = try String(contentsOf: spaced.appendingPathComponent("Package.swift"), encoding: .utf8)
        XCTAssertTrue(manifest.contains("name: \"my-models-2\""))

        let used = folder.appendingPathComponent("used")
        try FileManager.default.createDirectory(at: used, withIntermediateDirectories: true)
        try "mine".write(to: used.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["init", used.path], "\(used.path) is not empty (it holds notes.txt); `latent init` writes only into a new or empty folder"),
            (["init", used.appendingPathComponent("notes.txt").path], "\(used.path)/notes.txt is a file; `latent init` needs a new or empty folder"),
            (["init", folder.appendingPathComponent("new").path, "--name", "Latent"], "'Latent' names a module or product the package builds with (Latent's or the toolchain's), in some case; give --name another name"),
            (["init", folder.appendingPathComponent("new").path, "--name", "Foundation"], "'Foundation' names a module or product the package builds with (Latent's or the toolchain's), in some case; give --name another name"),
            (["init", folder.appendingPathComponent("latent").path], "'latent' names a module or product the package builds with (Latent's or the toolchain's), in some case; give --name another name"),
            (["init", folder.appendingPathComponent("new").path, "--name", "SwiftShims"], "'SwiftShims' names a module or product the package builds with (Latent's or the toolchain's), in some case; give --name another name"),
            (["init", folder.appendingPathComponent("new").path, "--name", "9lives"], "'9lives' cannot name a package; give --name with up to 100 letters, digits and dashes, starting with a letter"),
            (["init", folder.appendingPathComponent("new").path, "--name", "a" + String(repeating: "b", count: 100)], "'a\(String(repeating: "b", count: 100))' cannot name a package; give --name with up to 100 letters, digits and dashes, starting with a letter"),
            (["init", used.appendingPathComponent("notes.txt/new").path], "cannot write \(used.path)/notes.txt/new: \(used.path)/notes.txt is a file, not a folder"),
            (["init", folder.appendingPathComponent("new").path, "--latent", folder.path], "\(folder.path) is not a Latent checkout (no Package.swift naming the package Latent)"),
        ]
        for (arguments, message) in cases {
            let result = try LatentProcess.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error, ["latent: " + message], "\(arguments)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: used.path), ["notes.txt"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("new").path))

        // A write that fails part way (a file-size limit stands in for a full disk) leaves
        // nothing behind: no new folder, and an empty folder empty.
        let latent = LatentProcess.productsDirectory.appendingPathComponent("latent").path
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        for target in [folder.appendingPathComponent("fresh"), empty] {
            let result = try LatentProcess.run(shell: "trap '' XFSZ; ulimit -f 1; exec '\(latent)' init '\(target.path)'")
            XCTAssertEqual(result.status, 2, target.path)
            XCTAssertEqual(result.error.count, 1, "\(result.error)")
            XCTAssertTrue(result.error.first?.hasSuffix(": File too large") ?? false, "\(result.error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("fresh").path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty.path), [])
    }
}

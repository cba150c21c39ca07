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

    func testANewPackageBuildsAndTrainsItsOwnModel() throws {
        let package = folder.appendingPathComponent("My Models")
        let made = try LatentProcess.run(["init", package.path])
        XCTAssertEqual(made.status, 0, made.error.joined(separator: "\n"))
        for file in ["Package.swift", "README.md", "Sources/my-models/main.swift", "Sources/my-models/FactorAnalysis.swift"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: package.appendingPathComponent(file).path), file)
        }
        let readme = try String(contentsOf: package.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("swift run -c release my-models train factor-analysis"))

        let build = try LatentProcess.run(shell: "cd '\(package.path)' && swift build > build.log 2>&1 || { tail -30 build.log >&2; exit 1; }")
        XCTAssertEqual(build.status, 0, build.error.joined(separator: "\n"))
        let command = package.appendingPathComponent(".build/debug/my-models")

        let listed = try LatentProcess.run(executable: command, ["models"])
        XCTAssertEqual(listed.status, 0)
        XCTAssertEqual(listed.out.first?.hasPrefix("factor-analysis"), true)
        XCTAssertEqual(listed.out.dropFirst().first?.trimmingCharacters(in: .whitespaces).hasPrefix("--factors"), true)

        let data = folder.appendingPathComponent("points.csv")
        var rows = ["a,b,c,d"]
        for row in 0..<300 {
            let z = Double(row % 17) / 8 - 1
            rows.append([2 * z + 1, -z, z + 0.5, 3].enumerated().map { String($0.element + 0.1 * sin(Double(row * 7 + $0.offset))) }.joined(separator: ","))
        }
        try rows.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run").path
        let trained = try LatentProcess.run(executable: command, ["train", "factor-analysis", "--data", data.path, "--factors", "1", "--epochs", "1", "--out", run, "--json"])
        XCTAssertEqual(trained.status, 0, trained.error.joined(separator: "\n"))
        let report = try JSONSerialization.jsonObject(with: Data(trained.out.last!.utf8)) as! [String: Any]
        XCTAssertEqual(report["epochs"] as? Int, 1)
        XCTAssertTrue((report["test_elbo"] as? Double)?.isFinite == true)

        let explained = try LatentProcess.run(executable: command, ["eval", run + "/checkpoint.latent", "--data", data.path, "--json"])
        XCTAssertEqual(explained.status, 0, explained.error.joined(separator: "\n"))
        let refused = try LatentProcess.run(executable: command, ["train", "factor-analysis", "--factors", "0"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(refused.error, ["latent: flag '--factors' of 'train' needs a whole number from 1 to 1000, got '0'"])
    }

    func testInitRefusesAFolderInUseAndABadName() throws {
        let used = folder.appendingPathComponent("used")
        try FileManager.default.createDirectory(at: used, withIntermediateDirectories: true)
        try "mine".write(to: used.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["init", used.path], "\(used.path) is not empty (it holds notes.txt); `latent init` writes only into a new or empty folder"),
            (["init", used.appendingPathComponent("notes.txt").path], "\(used.path)/notes.txt is a file; `latent init` needs a new or empty folder"),
            (["init", folder.appendingPathComponent("new").path, "--name", "9lives"], "'9lives' cannot name a package; give --name with letters, digits and dashes, starting with a letter"),
            (["init", folder.appendingPathComponent("new").path, "--latent", folder.path], "\(folder.path) is not a Latent checkout (no Package.swift naming the package Latent)"),
        ]
        for (arguments, message) in cases {
            let result = try LatentProcess.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error, ["latent: " + message], "\(arguments)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: used.path), ["notes.txt"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("new").path))
    }
}

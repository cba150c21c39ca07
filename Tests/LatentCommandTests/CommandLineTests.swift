import Foundation
import XCTest

/// What a person sees from the `latent` command, run as a separate process: help, and one
/// line on standard error with exit status 2 for every mistake.
final class CommandLineTests: XCTestCase {
    /// Runs the built `latent` executable with `arguments`.
    func run(_ arguments: [String]) throws -> (status: Int32, out: [String], error: [String]) {
        let process = Process()
        process.executableURL = Self.productsDirectory.appendingPathComponent("latent")
        process.arguments = arguments
        let out = Pipe(), error = Pipe()
        process.standardOutput = out
        process.standardError = error
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        func lines(_ data: Data) -> [String] { String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) }
        return (process.terminationStatus, lines(outData), lines(errorData))
    }

    /// The build folder holding the test bundle and the `latent` executable.
    static var productsDirectory: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
        #else
        return Bundle.main.bundleURL
        #endif
    }

    func testHelpListsTheCommands() throws {
        let result = try run(["--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.out.joined().contains("bench gemm"))
    }

    func testBadInputIsOneLineWithStatusTwo() throws {
        let cases: [([String], String)] = [
            (["frobnicate"], "latent: unknown command 'frobnicate'; run `latent --help` for the list"),
            (["bench", "gemm", "--size", "3"], "latent: unknown flag '--size' for 'bench gemm' (it accepts --m, --n, --k, --threads, --transpose-a, --transpose-b, --seconds, --json)"),
            (["bench", "gemm", "--m", "zero"], "latent: flag '--m' of 'bench gemm' needs a whole number from 1 to 65536, got 'zero'"),
            (["bench", "gemm", "--m"], "latent: flag '--m' of 'bench gemm' needs a value"),
            (["bench", "gemm", "extra"], "latent: unexpected argument 'extra' for 'bench gemm'; flags start with --"),
            (["bench", "gemm", "--json=yes"], "latent: flag '--json' of 'bench gemm' takes no value"),
        ]
        for (arguments, message) in cases {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error, [message])
            XCTAssertEqual(result.out, [])
        }
    }

    func testBenchGEMMPrintsJSONOnTheLastLine() throws {
        let result = try run(["bench", "gemm", "--m", "64", "--n", "48", "--k", "32", "--threads", "1", "--json"])
        XCTAssertEqual(result.status, 0)
        let last = try XCTUnwrap(result.out.last)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        XCTAssertEqual(report["m"] as? Int, 64)
        XCTAssertEqual(report["n"] as? Int, 48)
        XCTAssertEqual(report["k"] as? Int, 32)
        XCTAssertEqual(report["threads"] as? Int, 1)
        XCTAssertGreaterThan(try XCTUnwrap(report["gflops"] as? Double), 0)
        XCTAssertEqual(result.error.count, 1, "the human line goes to standard error under --json")
    }
}

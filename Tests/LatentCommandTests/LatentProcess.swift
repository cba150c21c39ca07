import Foundation

/// Runs the built `latent` executable as a separate process, as a person would.
enum LatentProcess {
    /// Exit status and the lines of standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, out: [String], error: [String]) {
        try run(executable: productsDirectory.appendingPathComponent("latent"), arguments)
    }

    static func run(executable: URL, _ arguments: [String]) throws -> (status: Int32, out: [String], error: [String]) {
        let process = Process()
        process.executableURL = executable
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

    /// Starts `latent` with `arguments` in the background, its output discarded.
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("latent")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `command` with `/bin/sh -c` (to set limits before starting `latent`).
    static func run(shell command: String) throws -> (status: Int32, out: [String], error: [String]) {
        try run(executable: URL(fileURLWithPath: "/bin/sh"), ["-c", command])
    }

    /// The build folder holding the test bundle and the `latent` executable.
    static var productsDirectory: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        #endif
        return Bundle.main.bundleURL
    }
}

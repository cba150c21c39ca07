import Foundation
import XCTest

/// `mpirun -np 2 latent train`: two processes train as one (the same figures as one process),
/// process 0 alone writes, a run resumes with another number of processes, and a killed
/// process ends the job leaving the last checkpoint. Needs Open MPI (`.ci/run` installs it);
/// without it only the messages for a missing or foreign MPI are checked.
final class MPITests: XCTestCase {
    var folder: URL!
    let latent = LatentProcess.productsDirectory.appendingPathComponent("latent").path
    let small = ["--hidden", "16", "--latent-dim", "2", "--batch-size", "100"]

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-mpi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    var mpirun: String? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func requireMPI() throws -> String {
        guard let mpirun else { throw XCTSkip("Open MPI's mpirun is not installed (Debian: openmpi-bin); .ci/run installs it") }
        return mpirun
    }

    func mpi(_ processes: Int, _ arguments: [String]) throws -> (status: Int32, out: [String], error: [String]) {
        try LatentProcess.run(executable: URL(fileURLWithPath: try requireMPI()),
                              ["--allow-run-as-root", "--oversubscribe", "-np", "\(processes)", latent] + arguments)
    }

    /// The (train, held-out) ELBO of each epoch in `run`'s metrics log.
    func figures(_ run: String) throws -> [[Double]] {
        let text = try String(contentsOf: folder.appendingPathComponent(run).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return [try XCTUnwrap(object["trainELBO"] as? Double), try XCTUnwrap(object["heldOutELBO"] as? Double)]
        }
    }

    func assertClose(_ a: [[Double]], _ b: [[Double]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a.joined(), b.joined()) { XCTAssertEqual(x, y, accuracy: 1e-4 * abs(y), file: file, line: line) }
    }

    func testTwoProcessesTrainAsOneAndResumeAsOne() throws {
        let out = folder.path
        let two = try mpi(2, ["train", "bernoulli-vae", "--epochs", "2", "--out", "\(out)/two", "--json"] + small)
        XCTAssertEqual(two.status, 0, two.error.joined(separator: "\n"))
        XCTAssertEqual(two.out.filter { $0.hasPrefix("{") }.count, 1, "process 0 alone reports")
        let one = try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "2", "--out", "\(out)/one"] + small)
        XCTAssertEqual(one.status, 0, one.error.joined(separator: "\n"))
        assertClose(try figures("two"), try figures("one"))
        // One epoch on two processes, then resumed alone to the second: as the straight run.
        let first = try mpi(2, ["train", "bernoulli-vae", "--epochs", "1", "--out", "\(out)/switched"] + small)
        XCTAssertEqual(first.status, 0, first.error.joined(separator: "\n"))
        let resumed = try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "2", "--out", "\(out)/switched", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.error.joined(separator: "\n"))
        assertClose(try figures("switched"), try figures("one"))
    }

    func testAKilledProcessEndsTheJobAndLeavesTheLastCheckpoint() throws {
        let mpirun = try requireMPI()
        let job = Process()
        job.executableURL = URL(fileURLWithPath: mpirun)
        job.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", "2", latent, "train", "bernoulli-vae", "--epochs", "10000", "--out", folder.path] + small
        let errors = Pipe()
        job.standardOutput = FileHandle.nullDevice
        job.standardError = errors
        try job.run()
        let checkpoint = folder.appendingPathComponent("checkpoint.latent").path
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: checkpoint), Date() < deadline { usleep(50_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
        // Process 0 holds the folder's lock and wrote its pid there; kill the other.
        let writer = try String(contentsOf: folder.appendingPathComponent(".latent.lock"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let others = try processes(named: "latent").filter { "\($0)" != writer }
        XCTAssertEqual(others.count, 1, "\(others)")
        for pid in others { kill(pid, SIGKILL) }
        let ended = Date().addingTimeInterval(30)
        while job.isRunning, Date() < ended { usleep(50_000) }
        XCTAssertFalse(job.isRunning, "the job ends when a process dies")
        if job.isRunning { job.terminate() }
        job.waitUntilExit()
        XCTAssertNotEqual(job.terminationStatus, 0)
        _ = errors.fileHandleForReading.readDataToEndOfFile()
        let resumed = try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--out", folder.path, "--resume"])
        XCTAssertTrue(resumed.status == 0 || resumed.error.joined().contains("already done"), "the checkpoint left behind is whole: \(resumed.error)")
    }

    /// The ids of running processes of this test's `latent` executable.
    func processes(named name: String) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { Int32($0) }.filter { pid in
            guard let command = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
            let arguments = command.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first == latent && arguments.contains(folder.path)
        }
    }

    func testAnotherMPIOrAMissingLibraryIsOneLine() throws {
        let foreign = try LatentProcess.run(shell: "PMI_RANK=0 PMI_SIZE=2 '\(latent)' train bernoulli-vae --epochs 1 --out '\(folder.path)/x'")
        XCTAssertEqual(foreign.status, 2)
        XCTAssertEqual(foreign.error.count, 1)
        XCTAssertTrue(foreign.error[0].contains("an MPI launcher other than Open MPI's mpirun"), foreign.error[0])
        guard mpirun == nil else { return }
        let missing = try LatentProcess.run(shell: "OMPI_COMM_WORLD_SIZE=2 '\(latent)' train bernoulli-vae --epochs 1 --out '\(folder.path)/y'")
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.error.count, 1)
        XCTAssertTrue(missing.error[0].contains("Open MPI's library could not be loaded"), missing.error[0])
    }

    /// Processes started with different settings (here seeds) all stop before training, and
    /// the job says why once.
    func testProcessesThatDoNotStartAlikeStopWithOneLine() throws {
        let mpirun = try requireMPI()
        let common = ["train", "bernoulli-vae", "--epochs", "1", "--out", folder.path] + small
        let run = try LatentProcess.run(executable: URL(fileURLWithPath: mpirun),
                                        ["--allow-run-as-root", "--oversubscribe", "-np", "1", latent] + common + ["--seed", "1", ":", "-np", "1", latent] + common + ["--seed", "2"])
        XCTAssertNotEqual(run.status, 0)
        let ours = run.error.filter { $0.hasPrefix("latent") || $0.hasPrefix("[process") }
        XCTAssertEqual(ours, ["latent: bad training options: 1 of the 2 processes do not start as process 0 does (their rows, settings, checkpoint or model differ); give every process the same command, data and checkpoint"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("checkpoint.latent").path))
    }

    /// A mistake in the command line, which every process reads alike, is said once (it was
    /// also said by process 1, marked with its number).
    func testABadFlagIsSaidOnce() throws {
        let run = try mpi(2, ["train", "gmm", "--epochs", "0"])
        XCTAssertEqual(run.status, 2)
        XCTAssertEqual(run.error.filter { $0.hasPrefix("latent") || $0.hasPrefix("[process") }, ["latent: flag '--epochs' of 'train' needs a whole number from 1 to 100000, got '0'"])
    }

    func testOnlyTrainRunsAcrossProcesses() throws {
        let run = try mpi(2, ["models"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.error.contains { $0.contains("only `latent train` runs as one job over several MPI processes") }, "\(run.error)")
    }
}

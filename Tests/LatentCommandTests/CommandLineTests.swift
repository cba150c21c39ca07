import Foundation
import XCTest

/// What a person sees from the `latent` command, run as a separate process: help, and one
/// line on standard error with exit status 2 for every mistake.
final class CommandLineTests: XCTestCase {
    func testHelpListsTheCommands() throws {
        let result = try LatentProcess.run(["--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.out.joined().contains("bench gemm"))
        // A group's name alone, with --help, or with a name it lacks.
        let compare = try LatentProcess.run(["compare", "--help"])
        XCTAssertEqual(compare.status, 0)
        XCTAssertEqual(compare.out.first, "`latent compare` takes one of: gmm, vae.")
        XCTAssertEqual(try LatentProcess.run(["bench"]).error, ["latent: `latent bench` needs one of: gemm, vae; run `latent bench --help` for what each does"])
        XCTAssertEqual(try LatentProcess.run(["compare", "hmm"]).error, ["latent: unknown command 'compare hmm'; `latent compare` takes one of: gmm, vae"])
        for arguments in [["train", "gmm", "--help"], ["train", "--components", "4", "gmm", "--help"]] {
            XCTAssertTrue(try LatentProcess.run(arguments).out.contains("Options of model 'gmm':"), "\(arguments)")
        }
        XCTAssertEqual(try LatentProcess.run(["compare", "--json"]).error, ["latent: `latent compare` needs one of: gmm, vae; run `latent compare --help` for what each does"])
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
            let result = try LatentProcess.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error, [message])
            XCTAssertEqual(result.out, [])
        }
    }

    /// A package's own tool (`CommandLineTool.main` under another name) speaks in its own name.
    func testAToolOfOnesOwnSpeaksInItsName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-name-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tool = folder.appendingPathComponent("mine")
        try FileManager.default.copyItem(at: LatentProcess.productsDirectory.appendingPathComponent("latent"), to: tool)
        let wrong = try LatentProcess.run(executable: tool, ["frobnicate"])
        XCTAssertEqual(wrong.error, ["mine: unknown command 'frobnicate'; run `mine --help` for the list"])
        XCTAssertEqual(try LatentProcess.run(executable: tool, ["--help"]).out.first, "mine: amortized variational inference for models written in Swift")
    }

    /// `bench vae` counts every multiply-add of an epoch: for 784-16-2 on the 9,000 bundled
    /// images, per row the forward pass (784*16 + 16*4 + 2*16 + 16*784), the weight gradients
    /// (as many) and the input gradients of all layers but the first (less 784*16).
    func testBenchVAECountsTheEpochsMatrixWork() throws {
        let result = try LatentProcess.run(["bench", "vae", "--hidden", "16", "--latent-dim", "2", "--json"])
        XCTAssertEqual(result.status, 0, result.error.joined(separator: "\n"))
        let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.out.last!.utf8)) as? [String: Double])
        let forward = 784 * 16 + 16 * 4 + 2 * 16 + 16 * 784
        XCTAssertEqual(try XCTUnwrap(figures["gflop"]), 2 * 9000 * Double(2 * forward + forward - 784 * 16) / 1e9, accuracy: 1e-9)
        let share = try XCTUnwrap(figures["matmul_share"])
        XCTAssertTrue(share > 0 && share < 1, "\(share)")
        XCTAssertGreaterThan(try XCTUnwrap(figures["ratio_to_floor"]), 0.5)
    }

    /// The same count for the paper's two-layer model (784-8-8-2 here), trained on stochastically
    /// binarized minibatches of its own size (20): the second hidden layer adds 8*8 each way.
    func testBenchVAETimesThePaperModel() throws {
        let result = try LatentProcess.run(["bench", "vae", "--model", "burda-vae", "--binarize", "stochastic", "--hidden", "8", "--latent-dim", "2", "--json"])
        XCTAssertEqual(result.status, 0, result.error.joined(separator: "\n"))
        let figures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.out.last!.utf8)) as? [String: Double])
        let forward = 784 * 8 + 8 * 8 + 8 * 4 + 2 * 8 + 8 * 8 + 8 * 784
        XCTAssertEqual(try XCTUnwrap(figures["gflop"]), 2 * 9000 * Double(2 * forward + forward - 784 * 8) / 1e9, accuracy: 1e-9)
        XCTAssertEqual(try LatentProcess.run(["bench", "vae", "--model", "ppca"]).error, ["latent: 'ppca' is not a binary-image model; `bench vae` times those"])
    }

    func testBenchGEMMPrintsJSONOnTheLastLine() throws {
        let result = try LatentProcess.run(["bench", "gemm", "--m", "64", "--n", "48", "--k", "32", "--threads", "1", "--json"])
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

/// The model commands end to end, on small data written by the test.
final class ModelCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: folder) }

    func json(_ lines: [String]) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(lines.last).utf8)) as? [String: Any])
    }

    func testModelsAndExplain() throws {
        let models = try LatentProcess.run(["models", "--json"])
        XCTAssertEqual(models.status, 0)
        XCTAssertEqual(try json(models.out)["models"] as? [String], ["gmm", "gaussian-vae", "gaussian-vae-pixel-scale", "bernoulli-vae", "burda-vae", "ppca"])
        let explain = try LatentProcess.run(["explain", "bernoulli-vae", "--json"])
        XCTAssertEqual(explain.status, 0)
        let sites = try XCTUnwrap(try json(explain.out)["sites"] as? [[String: Any]])
        XCTAssertEqual(sites.first?["estimator"] as? String, "analytic KL")
        XCTAssertEqual(sites.first?["parameters"] as? Int, 784 * 400 + 400 + 400 * 40 + 40)
    }

    func testTrainThenEvaluatePPCAOnACSVFile() throws {
        let rows = (0..<200).map { i -> String in
            let t = Double(i) / 50
            return String(format: "%.4f,%.4f,%.4f", sin(t), cos(t), sin(t) + 0.1 * cos(3 * t))
        }
        let data = folder.appendingPathComponent("points.csv").path
        try (["a,b,c"] + rows).joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let train = try LatentProcess.run(["train", "ppca", "--data", data, "--epochs", "20", "--batch-size", "50", "--out", out, "--json"])
        XCTAssertEqual(train.status, 0, train.error.joined(separator: "\n"))
        let report = try json(train.out)
        for key in ["train_elbo", "test_elbo", "epochs", "seconds", "seconds_per_epoch", "images_per_second"] { XCTAssertNotNil(report[key], key) }
        XCTAssertEqual(report["epochs"] as? Int, 20)
        let checkpoint = (out as NSString).appendingPathComponent("checkpoint.latent")
        XCTAssertTrue(FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("metrics.jsonl")))
        let evaluation = try LatentProcess.run(["eval", checkpoint, "--data", data, "--iwae", "200", "--json"])
        XCTAssertEqual(evaluation.status, 0, evaluation.error.joined(separator: "\n"))
        let figures = try json(evaluation.out)
        XCTAssertEqual(figures["k"] as? Int, 200)
        // The checkpoint may come after the flags too.
        XCTAssertEqual(try json(try LatentProcess.run(["eval", "--iwae", "200", "--data", data, checkpoint, "--json"]).out)["log_likelihood"] as? Double, figures["log_likelihood"] as? Double)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(figures["log_likelihood"] as? Double), try XCTUnwrap(figures["test_elbo"] as? Double) - 0.05)
        // The same rows as a .npy file, scored on one thread: the trained columns' names apply to
        // a CSV file only, and no figure depends on the number of threads.
        let values = rows.flatMap { $0.split(separator: ",").map { Float(String($0))! } }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (200, 3), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let npy = folder.appendingPathComponent("points.npy")
        try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }).write(to: npy)
        // Rows on disk are checked too: a binary-image model trained on them silently.
        XCTAssertTrue(try LatentProcess.run(["train", "bernoulli-vae", "--data", npy.path, "--epochs", "1"]).error.first?.hasPrefix("latent: 'bernoulli-vae' models binary images, binarized from grey levels in [0, 1], but \(npy.path) holds ") == true)
        let fromNPY = try LatentProcess.run(["eval", checkpoint, "--data", npy.path, "--iwae", "200", "--threads", "1", "--json"])
        XCTAssertEqual(fromNPY.status, 0, fromNPY.error.joined(separator: "\n"))
        XCTAssertEqual(try json(fromNPY.out)["log_likelihood"] as? Double, figures["log_likelihood"] as? Double)
        // Columns chosen by name in another order: the .npy file's numbers, in the file's order,
        // were taken for them (log p(x) -6.96 where it is -4.72).
        let reordered = folder.appendingPathComponent("reordered").path
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--data", data, "--columns", "c,a,b", "--epochs", "1", "--out", reordered]).status, 0)
        let reorderedCheckpoint = (reordered as NSString).appendingPathComponent("checkpoint.latent")
        XCTAssertEqual(try LatentProcess.run(["eval", reorderedCheckpoint, "--data", npy.path]).error, ["latent: the model was trained on the CSV columns c,a,b, chosen by name (--columns); \(npy.path) has no column names to find them by; give the data as a CSV file with those columns"])
        XCTAssertEqual(try LatentProcess.run(["eval", reorderedCheckpoint, "--data", data]).status, 0)

        var damaged = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        damaged[damaged.count / 2] ^= 1
        try damaged.write(to: URL(fileURLWithPath: checkpoint))
        let corrupt = try LatentProcess.run(["eval", checkpoint, "--data", data])
        XCTAssertEqual(corrupt.status, 2)
        XCTAssertEqual(corrupt.error, ["latent: checkpoint \(checkpoint) is corrupt: checksum mismatch: the file is truncated or damaged"])
    }

    /// `compare vae`: the autoencoder has no ELBO and no KL; a larger beta buys a smaller KL with
    /// a larger reconstruction error; the page holds every picture.
    func testCompareVAESetsTheVariantsSideBySide() throws {
        let page = folder.appendingPathComponent("variants.html").path
        let result = try LatentProcess.run(["compare", "vae", "--epochs", "2", "--hidden", "32", "--latent-dim", "4", "--out", page, "--json"])
        XCTAssertEqual(result.status, 0, result.error.joined(separator: "\n"))
        let variants = try XCTUnwrap(try json(result.out)["variants"] as? [[String: Any]])
        XCTAssertEqual(variants.map { $0["name"] as? String }, ["autoencoder", "VAE (beta 1)", "beta-VAE (beta 0.5)", "beta-VAE (beta 4)"])
        XCTAssertNil(variants[0]["test_elbo"])
        XCTAssertNil(variants[0]["kl"])
        let kl = variants.dropFirst().map { $0["kl"] as? Double ?? .nan }, error = variants.map { $0["reconstruction_error"] as? Double ?? .nan }
        XCTAssertLessThan(kl[2], kl[0], "beta 4 pays less KL than beta 1")
        XCTAssertLessThan(kl[0], kl[1], "beta 1 less than beta 0.5")
        XCTAssertLessThan(error[2], error[3], "and reconstructs better for it")
        XCTAssertLessThan(error[0], error[3], "the autoencoder reconstructs better than beta 4")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1, 9, "originals, four reconstructions, four sample rows")
    }

    /// The anomaly experiment on a labelled folder in MNIST's format: two classes of 28 x 28
    /// images (class 0 bright on the left, class 1 on the right), class 1 left out of training,
    /// then scored as the anomaly by both scores.
    func testLeavingOutAClassAndScoringItAsTheAnomaly() throws {
        let data = folder.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        var state: UInt64 = 5
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        func write(_ name: String, count: Int) throws {
            var images: [UInt8] = [0, 0, 8, 3, 0, 0, UInt8(count >> 8), UInt8(count & 255), 0, 0, 0, 28, 0, 0, 0, 28]
            var labels: [UInt8] = [0, 0, 8, 1, 0, 0, UInt8(count >> 8), UInt8(count & 255)]
            for image in 0..<count {
                let label = image % 4 == 0 ? 1 : 0
                labels.append(UInt8(label))
                for pixel in 0..<784 {
                    let bright = (pixel % 28 < 14) == (label == 0)
                    images.append(uniform() < (bright ? 0.8 : 0.05) ? 255 : 0)
                }
            }
            try Data(images).write(to: data.appendingPathComponent(name + "-images-idx3-ubyte"))
            try Data(labels).write(to: data.appendingPathComponent(name + "-labels-idx1-ubyte"))
        }
        try write("train", count: 400)
        try write("t10k", count: 100)
        let out = folder.appendingPathComponent("normal").path
        let trained = try LatentProcess.run(["train", "bernoulli-vae", "--data", data.path, "--leave-out-class", "1", "--epochs", "5", "--hidden", "32", "--latent-dim", "2",
                                             "--out", out, "--json"])
        XCTAssertEqual(trained.status, 0, trained.error.joined(separator: "\n"))
        let scored = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--anomaly-class", "1", "--iwae", "10", "--json"])
        XCTAssertEqual(scored.status, 0, scored.error.joined(separator: "\n"))
        let figures = try json(scored.out)
        XCTAssertEqual(figures["rows"] as? Int, 100, "the whole test file, the left-out class included")
        XCTAssertGreaterThan(try XCTUnwrap(figures["auc_log_likelihood"] as? Double), 0.95)
        XCTAssertGreaterThan(try XCTUnwrap(figures["auc_reconstruction_probability"] as? Double), 0.95)
        // Scoring unlabelled images for an anomaly class is refused before the scoring.
        let images = (0..<(20 * 784)).map { UInt8($0 % 3 == 0 ? 255 : 0) }
        var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (20, 28, 28), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let npy = folder.appendingPathComponent("images.npy")
        try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + images).write(to: npy)
        let noLabels = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--data", npy.path, "--anomaly-class", "1"])
        XCTAssertEqual(noLabels.status, 2)
        XCTAssertEqual(noLabels.error, ["latent: --anomaly-class needs labelled data: an MNIST folder with its label files"])
        XCTAssertEqual(noLabels.out, [], "refused before scoring prints its figures")
        let unlabelled = try LatentProcess.run(["train", "ppca", "--leave-out-class", "1", "--out", folder.appendingPathComponent("p").path])
        XCTAssertEqual(unlabelled.status, 2)
        XCTAssertEqual(unlabelled.error, ["latent: bundled synthetic mixture (3 Gaussians in 2-D): leaving out a class needs labels (an MNIST folder with its label files)"])
    }

    /// A run remembers its data by absolute path: given relative to another folder it is found
    /// from anywhere, and data that has gone is an error, never a silent switch to the bundled data.
    func testARunFindsItsDataFromAnyFolderOrSaysItIsGone() throws {
        let rows = (0..<100).map { i in String(format: "%.3f,%.3f", sin(Double(i)), cos(Double(i) / 3)) }
        try (["a,b"] + rows).joined(separator: "\n").write(to: folder.appendingPathComponent("mine.csv"), atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let trained = try LatentProcess.run(shell: "cd '\(folder.path)' && '\(LatentProcess.productsDirectory.path)/latent' train ppca --data mine.csv --epochs 1 --out run")
        XCTAssertEqual(trained.status, 0, trained.error.joined(separator: "\n"))
        let evaluated = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--iwae", "2", "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.error.joined(separator: "\n"))
        XCTAssertEqual(try json(evaluated.out)["rows"] as? Int, 10, "the file's held-out tenth, not the bundled points")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "2", "--out", out, "--resume"]).status, 0)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("mine.csv"))
        for arguments in [["eval", out + "/checkpoint.latent"], ["train", "ppca", "--epochs", "3", "--out", out, "--resume"]] {
            let gone = try LatentProcess.run(arguments)
            XCTAssertEqual(gone.status, 2, "\(arguments)")
            XCTAssertEqual(gone.error, ["latent: the data this model was trained on, \(folder.path)/mine.csv, is not there any more; give --data"], "\(arguments)")
        }
    }

    /// Every training setting of the library is a flag of `train`, listed by `--help`, reaching
    /// the compiled guide and the objective, and kept by `--resume`.
    func testTrainingFlagsReachTrainingAndAreKeptOnResume() throws {
        let help = try LatentProcess.run(["train", "--help"])
        for flag in ["epochs", "batch-size", "optimizer", "lr", "momentum", "nesterov", "epsilon", "rms-decay", "epsilon-inside-root", "schedule", "clip-norm", "weight-decay", "beta", "warm-up",
                     "particles", "iwae", "point", "estimator", "seed", "binarize", "threads", "resume", "out", "data", "columns", "json"] {
            XCTAssertEqual(help.out.filter { $0.hasPrefix("  --\(flag) ") }.count, 1, flag)
        }
        let autoencoder = try LatentProcess.run(["train", "ppca", "--epochs", "1", "--point", "z", "--beta", "0", "--out", folder.appendingPathComponent("ae").path])
        XCTAssertEqual(autoencoder.status, 0, autoencoder.error.joined(separator: "\n"))
        XCTAssertTrue(autoencoder.out.contains { $0.contains(" Delta ") }, "a point estimate: the guide is a Delta")
        // Its figures are log p(x, z) at the point, which is no ELBO: they are not called one, and
        // `eval` (which restores the point guide) reports the objective and refuses log p(x).
        XCTAssertTrue(autoencoder.out.contains("'z' is a point estimate, so the training figure holds log p(x | z) and the held-out figure log p(x, z) at the point, not an expectation under q: neither is the ELBO or a bound on log p(x)"), autoencoder.out.joined(separator: "\n"))
        XCTAssertTrue(autoencoder.error.contains { $0.hasPrefix("epoch 1  train objective ") && $0.contains(" held-out objective ") }, autoencoder.error.joined(separator: "\n"))
        let checkpoint = folder.appendingPathComponent("ae/checkpoint.latent").path
        let evaluated = try LatentProcess.run(["eval", checkpoint])
        XCTAssertEqual(evaluated.status, 0, evaluated.error.joined(separator: "\n"))
        XCTAssertTrue(evaluated.out.last?.hasPrefix("objective ") == true && evaluated.out.last?.hasSuffix("(log p(x, z) at the point estimate of 'z'; log p(x) is not defined for a point estimate)") == true, evaluated.out.joined(separator: "\n"))
        let sampled = try LatentProcess.run(["eval", checkpoint, "--iwae", "10"])
        XCTAssertEqual(sampled.status, 2)
        XCTAssertTrue(sampled.error.count == 1 && sampled.error[0].hasPrefix("latent: --iwae needs log p(x), but site 'z' at LatentModels/PPCA.swift:"), sampled.error.joined(separator: "\n"))
        let weighted = try LatentProcess.run(["train", "ppca", "--epochs", "2", "--warm-up", "1", "--out", folder.appendingPathComponent("warm").path])
        XCTAssertTrue(weighted.out.contains("the training objective weighs the latent terms by a beta rising from 0 to 1 over the first 1 epoch, so until then it is not the ELBO or a bound on log p(x); the held-out figure is the ELBO"), weighted.out.joined(separator: "\n"))
        let epochs = weighted.error.filter { $0.hasPrefix("epoch ") }
        XCTAssertEqual(epochs.count, 2, weighted.error.joined(separator: "\n"))
        XCTAssertTrue(epochs.first?.hasPrefix("epoch 1  train objective ") == true && epochs.last?.hasPrefix("epoch 2  train ELBO ") == true, epochs.joined(separator: "\n"))
        func heldOut(_ flags: [String]) throws -> Double {
            let result = try LatentProcess.run(["train", "ppca", "--epochs", "2", "--out", folder.appendingPathComponent("f\(flags.count)-\(flags.first ?? "")").path, "--json"] + flags)
            XCTAssertEqual(result.status, 0, result.error.joined(separator: "\n"))
            return try XCTUnwrap(try json(result.out)["test_elbo"] as? Double)
        }
        let plain = try heldOut([])
        for flags in [["--beta", "0.5"], ["--iwae", "3"], ["--particles", "2"], ["--schedule", "cosine"], ["--schedule", "stages:1@1,1@0.1"], ["--optimizer", "sgd", "--momentum", "0.5", "--nesterov"],
                      ["--weight-decay", "0.01"], ["--clip-norm", "0.01"], ["--warm-up", "2"], ["--epsilon", "0.01"],
                      ["--optimizer", "rmsprop", "--rms-decay", "0.9", "--epsilon-inside-root", "--momentum", "0.5", "--nesterov"]] {
            XCTAssertNotEqual(try heldOut(flags), plain, "\(flags) changes training")
        }
        let run = folder.appendingPathComponent("resumed").path
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--beta", "0.5", "--out", run]).status, 0)
        let changed = try LatentProcess.run(["train", "ppca", "--epochs", "2", "--beta", "0.7", "--out", run, "--resume"])
        XCTAssertEqual(changed.status, 2)
        XCTAssertEqual(changed.error, ["latent: --beta 0.7 differs from the run being resumed (0.5); a resumed run keeps its training settings"])
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "2", "--out", run, "--resume"]).status, 0, "the stored --beta is used")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "3", "--beta", "5e-1", "--out", run, "--resume"]).status, 0, "the same number written another way")
        // A flag the run left at its default, given with the default's value, is the same setting
        // (`--seed 0` had been refused as differing from "not given"); another value is not.
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "4", "--seed", "0", "--lr", "0.02", "--out", run, "--resume"]).status, 0, "the defaults given")
        let seeded = try LatentProcess.run(["train", "ppca", "--epochs", "5", "--seed", "1", "--out", run, "--resume"])
        XCTAssertEqual(seeded.error, ["latent: --seed 1 differs from the run being resumed (0); a resumed run keeps its training settings"])
        let rate = try LatentProcess.run(["train", "ppca", "--epochs", "5", "--lr", "0.04", "--out", run, "--resume"])
        XCTAssertEqual(rate.status, 2, "another rate than the model's")
        for (flags, message) in [(["--point", "w"], "site 'w': the options ask for a point estimate of it, but the model has no latent site of that name (its latent sites: z)"),
                                 (["--momentum", "0.5"], "flag '--momentum' of 'train' does not apply to --optimizer adam"),
                                 (["--iwae", "3", "--beta", "0.5"], "bad training options: beta 0.5 applies to the ELBO, not to the importance-weighted bound (k = 3), which would ignore it"),
                                 (["--estimator", "z"], "flag '--estimator' of 'train' needs SITE=reparameterized|analytic-kl|score-function, got 'z'"),
                                 (["--point", " , "], "flag '--point' of 'train' names no site"),
                                 (["--beta", "0x10"], "flag '--beta' of 'train' needs a number from 0.0 to 1000.0, got '0x10'"),
                                 (["--optimizer", "sgd", "--nesterov", "--momentum", "0"], "flag '--nesterov' of 'train' needs --momentum above 0"),
                                 (["--optimizer", "rmsprop", "--nesterov"], "flag '--nesterov' of 'train' needs --momentum above 0 (rmsprop's is 0 unless given)"),
                                 (["--schedule", "stages:3@1,0@0.5"], "flag '--schedule' of 'train' needs constant, cosine, exponential:F (0 < F <= 1), step:N:F (N >= 1, 0 < F <= 1) or stages:E1@F1,E2@F2,... (1 <= E <= 100000 epochs, 0 < F <= 1), got 'stages:3@1,0@0.5'")] {
            let result = try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", folder.appendingPathComponent("bad").path] + flags)
            XCTAssertEqual(result.status, 2, "\(flags)")
            XCTAssertEqual(result.error, ["latent: " + message], "\(flags)")
        }
    }

    func testImageModelOnBundledDataThenSampleInpaintDenoise() throws {
        let out = folder.appendingPathComponent("vae").path
        let train = try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--hidden", "32", "--latent-dim", "2", "--out", out, "--json"])
        XCTAssertEqual(train.status, 0, train.error.joined(separator: "\n"))
        for file in ["checkpoint.latent", "metrics.jsonl", "elbo.svg", "samples.png", "reconstructions.png", "manifold.png", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent(file)), file)
        }
        // The report: one page, nothing fetched from elsewhere, every section, the three pictures inline.
        let report = try String(contentsOfFile: (out as NSString).appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(report.hasSuffix("</body></html>\n"))
        for fetch in ["src=\"http", "href=", "url(http", "<script", "<link", "@import"] { XCTAssertFalse(report.contains(fetch), fetch) }
        let headings = report.components(separatedBy: "<h2>").dropFirst().map { String($0.prefix { $0 != "<" }) }
        XCTAssertEqual(headings, ["Settings and results", "Compiled guide", "Training curves", "Latent coordinates in use", "Samples from the model",
                                  "Held-out images (top) and their reconstructions (bottom)", "The decoder's means over the 2-D latent space (Normal quantiles)"])
        XCTAssertEqual(report.components(separatedBy: "src=\"data:image/png;base64,iVBORw0KGgo").count - 1, 3)
        XCTAssertTrue(report.contains("<tr><th>--latent-dim</th><td>2</td></tr>"))
        XCTAssertTrue(report.contains("<svg"))
        XCTAssertEqual(report.components(separatedBy: "<tr><td class=\"n\">").count - 1, 2, "one row per latent coordinate")
        let checkpoint = (out as NSString).appendingPathComponent("checkpoint.latent")
        // A model trained on stochastically binarized images is scored on them unless told
        // otherwise (it was thresholded, about 5 nats off on this model).
        let stochastic = folder.appendingPathComponent("stochastic").path
        XCTAssertEqual(try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--hidden", "32", "--latent-dim", "2", "--binarize", "stochastic", "--out", stochastic]).status, 0)
        let trainedOn = (stochastic as NSString).appendingPathComponent("checkpoint.latent")
        let scores = try [[], ["--binarize", "stochastic"], ["--binarize", "threshold"]].map { flags in
            try XCTUnwrap(json(try LatentProcess.run(["eval", trainedOn, "--iwae", "2", "--rows", "100", "--json"] + flags).out)["log_likelihood"] as? Double)
        }
        XCTAssertEqual(scores[0], scores[1])
        XCTAssertNotEqual(scores[0], scores[2])
        let png = folder.appendingPathComponent("picture.png").path
        let sample = try LatentProcess.run(["sample", checkpoint, "--n", "9", "--out", png, "--json"])
        XCTAssertEqual(sample.status, 0, sample.error.joined(separator: "\n"))
        XCTAssertEqual(try json(sample.out)["path"] as? String, png)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: png)).prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        for mask in ["half", "block", "random"] {
            let inpaint = try LatentProcess.run(["inpaint", checkpoint, "--mask", mask, "--n", "30", "--out", png, "--json"])
            XCTAssertEqual(inpaint.status, 0, inpaint.error.joined(separator: "\n"))
            let figures = try json(inpaint.out)
            let error = try XCTUnwrap(figures["mean_error"] as? Double)
            // On binary digits filling with 0.5 is off by exactly 0.5 per pixel, and each pixel's
            // training mean by its spread; even a one-epoch model of 32 hidden units does better.
            XCTAssertEqual(try XCTUnwrap(figures["mean_error_fill_half"] as? Double), 0.5, accuracy: 1e-9, mask)
            XCTAssertLessThan(error, try XCTUnwrap(figures["mean_error_pixel_means"] as? Double), mask)
            // Conditioning on the known pixels explains the missing ones better than the pseudo-Gibbs heuristic.
            XCTAssertGreaterThan(try XCTUnwrap(figures["missing_log_likelihood"] as? Double), try XCTUnwrap(figures["missing_log_likelihood_pseudo_gibbs"] as? Double), mask)
        }
        // Outside (0, 0.5) the conditioned restoration was skipped, and mean_error silently held
        // the plain reconstruction's.
        XCTAssertEqual(try LatentProcess.run(["denoise", checkpoint, "--noise", "0.5", "--out", png]).error, ["latent: --noise 0.5: for binary images it must lie strictly between 0 and 0.5 (at 0 nothing is flipped, at 0.5 a noisy pixel says nothing about the image, and above 0.5 flipping every pixel back is the better guess)"])
        let denoise = try LatentProcess.run(["denoise", checkpoint, "--noise", "0.2", "--out", png, "--json"])
        XCTAssertEqual(denoise.status, 0, denoise.error.joined(separator: "\n"))
        let figures = try json(denoise.out)
        XCTAssertLessThan(try XCTUnwrap(figures["mean_error"] as? Double), try XCTUnwrap(figures["noisy_error"] as? Double), "restoring removes some of the noise")
        XCTAssertLessThan(try XCTUnwrap(figures["mean_error"] as? Double), try XCTUnwrap(figures["mean_error_reconstruction"] as? Double), "conditioning on the noisy image beats reconstructing it")
    }

    /// On the bundled synthetic mixture (three well-separated components) 1,500 steps bring the
    /// amortized posterior to the exact one and the fit to EM's.
    func testCompareGMMAgreesWithTheExactPosteriorAndEM() throws {
        let svg = folder.appendingPathComponent("gmm.svg").path
        let result = try LatentProcess.run(["compare", "gmm", "--steps", "1500", "--out", svg, "--json"])
        XCTAssertEqual(result.status, 0, result.error.joined(separator: "\n"))
        let report = try json(result.out)
        func figure(_ key: String) throws -> Double { try XCTUnwrap(report[key] as? Double, key) }
        XCTAssertLessThan(try figure("kl_q_p_mean"), 0.005, "nats per point")
        XCTAssertLessThan(try figure("tv_mean"), 0.01)
        XCTAssertGreaterThan(try figure("argmax_agreement"), 0.99)
        XCTAssertEqual(try figure("loglik_amortized"), try figure("loglik_em"), accuracy: 0.01, "per point")
        XCTAssertLessThanOrEqual(try figure("elbo"), try figure("loglik_amortized") + 1e-4, "the ELBO is a lower bound")
        XCTAssertGreaterThanOrEqual(try figure("amortization_gap"), -0.001)
        XCTAssertEqual(report["path"] as? String, svg)
        XCTAssertTrue(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg"))
    }

    /// A CSV file of two points, repeated.
    func pairOfPoints() throws -> String {
        let path = folder.appendingPathComponent("pair.csv").path
        try "x,y\n1,2\n3,4\n1,2\n3,4\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testMistakesAreOneLineWithStatusTwo() throws {
        let cases: [([String], String)] = [
            (["train", "nothing"], "latent: unknown model 'nothing'; the models are gmm, gaussian-vae, gaussian-vae-pixel-scale, bernoulli-vae, burda-vae, ppca"),
            (["train", "bernoulli-vae", "--binarize", "maybe"], "latent: flag '--binarize' of 'train' must be one of threshold, stochastic, got 'maybe'"),
            (["train"], "latent: 'train' needs MODEL; run `latent train --help`"),
            (["train", "gmm", "--optimizer", "lbfgs"], "latent: flag '--optimizer' of 'train' must be one of adam, adagrad, rmsprop, sgd, got 'lbfgs'"),
            (["train", "gmm", "--data", "/nonexistent.csv"], "latent: /nonexistent.csv: no such file or folder"),
            (["eval", "/nonexistent.latent"], "latent: checkpoint /nonexistent.latent does not exist"),
            (["train", "gmm", "--binarize", "stochastic"], "latent: --binarize applies to binary-image models; 'gmm' is trained on rows of numbers"),
            (["compare", "vae", "--betas", "4,4"], "latent: flag '--betas' of 'compare vae' names beta 4 twice; give each beta once"),
            (["compare", "vae", "--betas", "1"], "latent: flag '--betas' of 'compare vae' names beta 1 (the VAE, which the comparison trains anyway); give each beta once"),
            (["train", "bernoulli-vae", "--data", try pairOfPoints()], "latent: 'bernoulli-vae' models binary images, binarized from grey levels in [0, 1], but \(try pairOfPoints()) holds 3.0 in data row 2 (counting from 1, without a header); give images (an MNIST folder, or rows of values in [0, 1]), or use a model of real numbers"),
            (["train", "ppca", "--point", "z,z"], "latent: flag '--point' of 'train' names site 'z' twice"),
            (["train", "ppca", "--estimator", "z=reparameterized,z=analytic-kl"], "latent: flag '--estimator' of 'train' names site 'z' twice"),
            (["train", "ppca", "--data", try pairOfPoints(), "--columns", "x,x"], "latent: \(try pairOfPoints()): CSV: column 'x' is chosen twice"),
            (["compare", "gmm", "--data", try pairOfPoints()], "latent: \(try pairOfPoints()) has 2 distinct rows for 3 components; a component would sit on a single point, where the likelihood grows without bound, so there is nothing to compare"),
        ]
        for (arguments, message) in cases {
            let result = try LatentProcess.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error, [message], "\(arguments)")
        }
    }

    /// An R-style CSV (quoted names, a column of row names under an empty header): the row
    /// names are left out with a line saying so; `--columns` picks columns by name.
    func testTrainOnAnRStyleCSV() throws {
        var lines = ["\"\",\"eruptions\",\"waiting\",\"kind\""]
        for row in 1...60 { lines.append("\"\(row)\",\(row % 2 == 0 ? 2.1 + Double(row) / 100 : 4.3 - Double(row) / 100),\(row % 2 == 0 ? 55 + row % 7 : 80 - row % 5),\"\(row % 2 == 0 ? "short" : "long")\"") }
        let data = folder.appendingPathComponent("faithful.csv").path
        try lines.joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        let train = try LatentProcess.run(["train", "ppca", "--data", data, "--epochs", "2", "--out", out])
        XCTAssertEqual(train.status, 0, train.error.joined(separator: "\n"))
        XCTAssertTrue(train.out.contains("left out of \(data): the unnamed first column (row names), 'kind' (text)"), train.out.joined(separator: "\n"))
        let chosen = try LatentProcess.run(["train", "ppca", "--data", data, "--columns", "waiting", "--epochs", "1", "--out", out, "--json"])
        XCTAssertEqual(chosen.status, 0, chosen.error.joined(separator: "\n"))
        let otherColumns = try LatentProcess.run(["train", "ppca", "--resume", "--columns", "eruptions", "--epochs", "2", "--out", out])
        XCTAssertEqual(otherColumns.error, ["latent: --columns eruptions differs from the columns of the run being resumed (waiting); a resumed run keeps its data"])
        let sameColumns = try LatentProcess.run(["train", "ppca", "--resume", "--columns", "waiting", "--epochs", "2", "--out", out])
        XCTAssertEqual(sameColumns.status, 0, sameColumns.error.joined(separator: "\n"))
        let wrong = try LatentProcess.run(["train", "ppca", "--data", data, "--columns", "duration", "--out", out])
        XCTAssertEqual(wrong.error, ["latent: \(data): CSV: no column 'duration' (the columns are eruptions, waiting, kind)"])
    }

    /// Training 2 epochs and resuming to 4 writes the same checkpoint, byte for byte, as 4
    /// epochs at once, and the metrics log keeps the first two epochs.
    func testResumingARunIsExact() throws {
        let straight = folder.appendingPathComponent("straight").path, resumed = folder.appendingPathComponent("resumed").path
        XCTAssertEqual(try LatentProcess.run(["train", "gmm", "--epochs", "4", "--out", straight]).status, 0)
        XCTAssertEqual(try LatentProcess.run(["train", "gmm", "--epochs", "2", "--out", resumed]).status, 0)
        let again = try LatentProcess.run(["train", "gmm", "--epochs", "4", "--out", resumed, "--resume"])
        XCTAssertEqual(again.status, 0, again.error.joined(separator: "\n"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: straight + "/checkpoint.latent")), try Data(contentsOf: URL(fileURLWithPath: resumed + "/checkpoint.latent")))
        XCTAssertEqual(try String(contentsOfFile: resumed + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").count, 4)
        // The chart of the resumed run draws all four epochs, as the straight run's does.
        func points(_ run: String) throws -> Int {
            let svg = try String(contentsOfFile: run + "/elbo.svg", encoding: .utf8)
            return try XCTUnwrap(svg.components(separatedBy: "<polyline").dropFirst().first?.components(separatedBy: "points=\"").dropFirst().first?.prefix { $0 != "\"" }).split(separator: " ").count
        }
        XCTAssertEqual(try points(resumed), 4)
        XCTAssertEqual(try points(straight), 4)
        let done = try LatentProcess.run(["train", "gmm", "--epochs", "4", "--out", resumed, "--resume"])
        // A run already done is drawn again (a report whose writing failed could not be made).
        XCTAssertEqual(done.status, 0, done.error.joined(separator: "\n"))
        XCTAssertTrue(done.out.contains("note: the run in \(resumed) has already done 4 epochs: its chart, pictures and report are written again (ask for more epochs with --epochs)"), "\(done.out)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: straight + "/checkpoint.latent")), try Data(contentsOf: URL(fileURLWithPath: resumed + "/checkpoint.latent")))
        XCTAssertEqual(try points(resumed), 4)
        // Without --epochs, to the 4 it planned (not the model's default of more).
        let planned = try LatentProcess.run(["train", "gmm", "--out", resumed, "--resume"])
        XCTAssertTrue(planned.out.joined(separator: "\n").contains("note: the run in \(resumed) has already done 4 epochs"), "\(planned.out)")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: straight + "/checkpoint.latent")), try Data(contentsOf: URL(fileURLWithPath: resumed + "/checkpoint.latent")))
        let fewer = try LatentProcess.run(["train", "gmm", "--epochs", "2", "--out", resumed, "--resume"])
        XCTAssertEqual(fewer.error, ["latent: the run in \(resumed) has already done 4 epochs, more than the 2 asked for; ask for more with --epochs"])
        let changed = try LatentProcess.run(["train", "gmm", "--epochs", "6", "--out", resumed, "--resume", "--components", "4"])
        XCTAssertEqual(changed.error, ["latent: --components 4 differs from the run being resumed (3); a resumed run keeps its model"])
        let points = folder.appendingPathComponent("points.csv").path
        try (0..<40).map { String(format: "%.3f,%.3f", sin(Double($0)), cos(Double($0))) }.joined(separator: "\n").write(toFile: points, atomically: true, encoding: .utf8)
        let otherData = try LatentProcess.run(["train", "gmm", "--epochs", "6", "--out", resumed, "--resume", "--data", points])
        XCTAssertEqual(otherData.error, ["latent: the data have 36 training rows; the run being resumed was trained on 9000, so the data changed since"])
        let onFile = folder.appendingPathComponent("on-file").path
        XCTAssertEqual(try LatentProcess.run(["train", "gmm", "--epochs", "1", "--data", points, "--out", onFile]).status, 0)
        try (0..<20).map { String(format: "%.3f,%.3f", sin(Double($0)), cos(Double($0))) }.joined(separator: "\n").write(toFile: points, atomically: true, encoding: .utf8)
        let edited = try LatentProcess.run(["train", "gmm", "--epochs", "2", "--out", onFile, "--resume"])
        XCTAssertEqual(edited.error, ["latent: the data have 18 training rows; the run being resumed was trained on 36, so the data changed since"])
        // As many rows, other values (they trained on before), then the same rows moved.
        let original = (0..<40).map { String(format: "%.3f,%.3f", sin(Double($0)), cos(Double($0))) }.joined(separator: "\n")
        try (0..<40).map { String(format: "%.3f,%.3f", 10 * sin(Double($0)), cos(Double($0))) }.joined(separator: "\n").write(toFile: points, atomically: true, encoding: .utf8)
        let scaled = try LatentProcess.run(["train", "gmm", "--epochs", "2", "--out", onFile, "--resume"])
        XCTAssertEqual(scaled.error, ["latent: checkpoint \(onFile)/checkpoint.latent does not fit this model: it was trained on other rows than these (their number or their values differ, in the training rows or the held-out ones: the data changed since, or are other data); resuming continues only on the rows a run was trained on"])
        let moved = folder.appendingPathComponent("moved.csv").path
        try original.write(toFile: moved, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: points)
        let away = try LatentProcess.run(["train", "gmm", "--epochs", "2", "--out", onFile, "--resume"])
        XCTAssertEqual(away.error, ["latent: the data this model was trained on, \(points), is not there any more; give --data"])
        let found = try LatentProcess.run(["train", "gmm", "--epochs", "2", "--out", onFile, "--resume", "--data", moved])
        XCTAssertEqual(found.status, 0, found.error.joined(separator: "\n"))
        XCTAssertEqual(try String(contentsOfFile: onFile + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").count, 2)
        let twice = try LatentProcess.run(["train", "gmm", "--epochs", "1", "--epochs", "2", "--out", onFile])
        XCTAssertEqual(twice.error, ["latent: flag '--epochs' of 'train' is given twice; give it once"])
        let nothing = try LatentProcess.run(["train", "gmm", "--out", folder.appendingPathComponent("empty").path, "--resume"])
        XCTAssertEqual(nothing.error, ["latent: --resume: \(folder.appendingPathComponent("empty").path) holds no checkpoint to resume; train without --resume first"])
        // Extending a finished run re-plans a cosine schedule over the new total, and says so
        // (the rate, at 0 after epoch 2, rose again with no word).
        let cosine = folder.appendingPathComponent("cosine").path
        XCTAssertEqual(try LatentProcess.run(["train", "gmm", "--epochs", "2", "--schedule", "cosine", "--out", cosine]).status, 0)
        let extended = try LatentProcess.run(["train", "gmm", "--epochs", "3", "--out", cosine, "--resume"])
        XCTAssertEqual(extended.status, 0, extended.error.joined(separator: "\n"))
        XCTAssertTrue(extended.out.contains("note: the cosine schedule now runs over 3 epochs in all; the run being resumed planned it over 2, so its rate takes the longer curve from here"), extended.out.joined(separator: "\n"))
        XCTAssertFalse(again.out.contains { $0.hasPrefix("note: the cosine") })
    }

    /// Each chunk of 200 rows gets draws of its own: with one seed for all, a row and the row
    /// 200 further down, equal here, got the same estimate, and the average's error did not
    /// shrink with the rows.
    func testEvaluationChunksDrawIndependently() throws {
        let rows = (0..<200).map { i in String(format: "%.3f,%.3f", sin(Double(i)), cos(Double(i))) }
        let data = folder.appendingPathComponent("twice.csv").path
        try (rows + rows).joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--data", data, "--epochs", "1", "--out", out]).status, 0)
        let scored = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--split", "all", "--iwae", "1", "--per-example", "/dev/stdout"])
        XCTAssertEqual(scored.status, 0, scored.error.joined(separator: "\n"))
        let values = scored.out.dropFirst().compactMap { line in line.split(separator: ",").dropFirst().first.flatMap { Double($0) } }
        XCTAssertEqual(values.count, 400)
        guard values.count == 400 else { return }
        XCTAssertEqual((0..<200).filter { values[$0] == values[$0 + 200] }.count, 0)
    }

    /// `--split all` scores every row in file order; the held-out split numbers its rows as
    /// they stand in the file.
    func testEvaluateEveryRowOrTheHeldOutOnes() throws {
        let rows = (0..<50).map { i in String(format: "%.3f,%.3f", sin(Double(i)), cos(Double(i))) }
        let data = folder.appendingPathComponent("points.csv").path
        try rows.joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("run").path
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--data", data, "--epochs", "3", "--out", out]).status, 0)
        let all = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--split", "all", "--iwae", "5", "--per-example", "/dev/stdout", "--json"])
        XCTAssertEqual(all.status, 0, all.error.joined(separator: "\n"))
        XCTAssertEqual(all.out.dropFirst().dropLast().map { $0.split(separator: ",")[0] }, (0..<50).map { "\($0)"[...] })
        XCTAssertEqual(try json(all.out)["rows"] as? Int, 50)
        let heldOut = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--iwae", "5", "--per-example", "/dev/stdout"])
        let numbers = heldOut.out.dropFirst().compactMap { Int($0.split(separator: ",")[0]) }
        XCTAssertEqual(numbers.count, 5, "a tenth of 50 rows is held out")
        XCTAssertEqual(numbers, numbers.sorted())
        XCTAssertTrue(numbers.allSatisfy { (0..<50).contains($0) })
    }
}

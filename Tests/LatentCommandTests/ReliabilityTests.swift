import Foundation
import XCTest

/// What the command guarantees when given bad files or treated badly, checked by running it as
/// a separate process: one line naming the problem and exit status 2, and the last good
/// checkpoint and metrics kept through bad flags, a second run on the same folder, a full
/// disk and `kill -9` in the middle of writes.
final class ReliabilityTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-reliability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(name).deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: folder.appendingPathComponent(name))
        return path(name)
    }

    func idx(_ dimensions: [UInt32], rank: UInt8? = nil, data: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 8, rank ?? UInt8(dimensions.count)]
        for d in dimensions { bytes += [UInt8(d >> 24), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return bytes + data
    }

    func npy(_ shape: String, data: [UInt8] = []) -> [UInt8] {
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header + data
    }

    /// A checkpoint file of the current format with the given header and floats behind a valid
    /// CRC-32: what a lying writer, not a damaged disk, would produce.
    func checkpoint(_ tensors: [[String: Any]], metadata: [String: String], floats: [Float] = []) throws -> [UInt8] {
        let header = [UInt8](try JSONSerialization.data(withJSONObject: ["tensors": tensors, "metadata": metadata]))
        var bytes = Array("LATENTCK".utf8) + [2, 0, 0, 0] + withUnsafeBytes(of: UInt32(header.count).littleEndian, Array.init) + header
        for value in floats { bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
        return bytes + withUnsafeBytes(of: crc32(bytes).littleEndian, Array.init)
    }

    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A folder of four 2 x 2 training images labelled 0, 1, 1, 0 and two held-out ones.
    func labelledImages(_ name: String) throws -> String {
        _ = try write(name + "/train-images-idx3-ubyte", idx([4, 2, 2], data: (0..<16).map { UInt8($0 * 16) }))
        _ = try write(name + "/train-labels-idx1-ubyte", [0, 0, 8, 1] + withUnsafeBytes(of: UInt32(4).bigEndian, Array.init) + [0, 1, 1, 0])
        _ = try write(name + "/t10k-images-idx3-ubyte", idx([2, 2, 2], data: (0..<8).map { UInt8(255 - $0 * 30) }))
        _ = try write(name + "/t10k-labels-idx1-ubyte", [0, 0, 8, 1] + withUnsafeBytes(of: UInt32(2).bigEndian, Array.init) + [1, 0])
        return path(name)
    }

    func testBadFilesAreOneLineNamingTheFile() throws {
        let mnistRank = try write("rank/t10k-images-idx3-ubyte", idx([1, 2, 2], data: [0, 0, 0, 0]))
        _ = try write("rank/train-images-idx3-ubyte", [0, 0, 8, 255] + [UInt8](repeating: 0, count: 1020))
        _ = try write("overflow/t10k-images-idx3-ubyte", idx([1, 2, 2], data: [0, 0, 0, 0]))
        _ = try write("overflow/train-images-idx3-ubyte", idx([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: [1, 2, 3]))
        _ = try write("empty/t10k-images-idx3-ubyte", idx([1, 28, 28], data: [UInt8](repeating: 0, count: 784)))
        _ = try write("empty/train-images-idx3-ubyte", idx([0, 28, 28]))
        let wide = try write("wide.npy", npy("(2, 16777217)"))
        let header = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: wide)[.size] as? UInt64)
        try FileHandle(forWritingTo: URL(fileURLWithPath: wide)).truncate(atOffset: header + 2 * 16_777_217 * 4)
        let settings = { (latent: Int, hidden: Int) in "{\"dataSize\":3,\"values\":{\"latent-dim\":\(latent),\"hidden\":\(hidden)}}" }
        let cases: [([String], String)] = [
            (["train", "bernoulli-vae", "--data", path("overflow")], "\(path("overflow"))/train-images-idx3-ubyte: IDX: the header promises 4294967295 x 4294967295 x 4294967295 = more bytes than any file holds of data, the file has 3"),
            (["train", "bernoulli-vae", "--data", (mnistRank as NSString).deletingLastPathComponent], "\(path("rank"))/train-images-idx3-ubyte: IDX: rank 255; image files have rank 3 (images x rows x columns)"),
            (["train", "bernoulli-vae", "--data", path("empty")], "\(path("empty"))/train-images-idx3-ubyte: the data have no rows"),
            (["train", "ppca", "--data", try write("huge.npy", npy("(1099511627776, 1099511627776)", data: [0, 0, 0, 0]))], "\(path("huge.npy")): NPY: shape [1099511627776, 1099511627776] needs more bytes than any file holds of data, the file has 4"),
            (["train", "ppca", "--data", try write("scalar.npy", npy("()", data: [0, 0, 128, 63]))], "\(path("scalar.npy")): the array is a single number; data need rows (a first axis)"),
            (["train", "ppca", "--data", try write("flat.npy", npy("(10, 0)"))], "\(path("flat.npy")): the rows have no numbers (shape [10, 0])"),
            (["train", "ppca", "--data", wide], "\(wide): 16777217 numbers per row; a model here takes 1 to 16777216"),
            (["train", "ppca", "--data", try write("text.csv", Array("a,b\n1,2\n3,x\n".utf8))], "\(path("text.csv")):3:2: 'x', not a number in column 'b'; remove or fill in that row"),
            (["train", "ppca", "--data", try write("nul.csv", Array("a,b\n1,2\n1.\u{0}5,2\n".utf8))], "\(path("nul.csv")):3:1: '1.\u{0}5', not a number in column 'a'; remove or fill in that row"),
            (["train", "bernoulli-vae", "--data", try labelledImages("labelled"), "--leave-out-class", "7"],
             "\(path("labelled")): no training row is of class 7, so none would be left out (its classes are 0, 1)"),
            (["eval", try write("huge.latent", try checkpoint([["name": "w", "group": "model", "shape": [1 << 61]]], metadata: ["model": "ppca"]))],
             "checkpoint \(path("huge.latent")) is corrupt: tensor 'w' of shape [2305843009213693952] needs more bytes than the file has left"),
            (["eval", try write("negative.latent", try checkpoint([], metadata: ["model": "ppca", "settings": settings(-2, 400)]))],
             "checkpoint \(path("negative.latent")) does not fit this model: stored settings: --latent-dim -2 is not within 1...4096"),
            (["sample", try write("absurd.latent", try checkpoint([], metadata: ["model": "bernoulli-vae", "settings": settings(2, 1 << 40)]))],
             "checkpoint \(path("absurd.latent")) does not fit this model: stored settings: --hidden 1099511627776 is not within 1...65536"),
            (["sample", try write("unstored.latent", try checkpoint([], metadata: ["model": "bernoulli-vae", "settings": settings(2, 60000)]))],
             "checkpoint \(path("unstored.latent")) does not fit this model: its tensors do not fit its model settings (parameter 'decoder.layers.0.weight' at LatentModels/BernoulliVAE.swift:12 is not among the stored parameters)"),
            (["eval", folder.path], "checkpoint \(folder.path) is corrupt: it is a folder, not a checkpoint file"),
            (["eval", "/dev/null"], "checkpoint /dev/null is corrupt: it is not a regular file"),
            (["train", "ppca", "--data", ""], "--data is empty; give a file or folder of data"),
            (["train", "gmm", "--components", "1"], "flag '--components' of 'train' needs a whole number from 2 to 1000, got '1'"),
            (["train", "ppca", "--out", "/etc/passwd/run"], "cannot write /etc/passwd/run: /etc/passwd is a file, not a folder"),
        ]
        for (arguments, message) in cases {
            let result = try LatentProcess.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error, ["latent: " + message], "\(arguments)")
        }
    }

    /// A checkpoint whose model has changed since it was written (here its stored settings, as
    /// a model file's new layer size would): eval names the tensor that does not fit, as
    /// --resume does, instead of a guess about minibatch-sized parameters.
    func testACheckpointOfAChangedModelNamesTheTensorThatDoesNotFit() throws {
        let out = path("small")
        XCTAssertEqual(try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--out", out]).status, 0)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint.latent")))
        let headerLength = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        let header = String(decoding: bytes[16..<(16 + headerLength)], as: UTF8.self)
        // The settings are JSON inside the header's JSON, so their quotes are escaped.
        let edited = Array(header.replacingOccurrences(of: #"\"hidden\":8"#, with: #"\"hidden\":16"#).utf8)
        XCTAssertEqual(edited.count, headerLength + 1, "one setting changed")
        var changedBytes = Array(bytes[..<12]) + withUnsafeBytes(of: UInt32(edited.count).littleEndian, Array.init) + edited + Array(bytes[(16 + headerLength)..<(bytes.count - 4)])
        changedBytes += withUnsafeBytes(of: crc32(changedBytes).littleEndian, Array.init)
        let changed = try write("changed.latent", changedBytes)
        let result = try LatentProcess.run(["eval", changed])
        XCTAssertEqual(result.error, ["latent: checkpoint \(changed) does not fit this model: model parameter 'decoder.layers.0.weight' has shape [2, 8], the model needs [2, 16]"])
        // An output file named like a folder wrote a file of the folder's name.
        let folderLike = path("scores") + "/"
        let slash = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--per-example", folderLike])
        XCTAssertEqual(slash.error, ["latent: cannot write \(folderLike): it ends in '/', so it names a folder; --per-example takes a file name"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("scores")))
    }

    /// A trained checkpoint with one parameter made infinite (and its checksum made right):
    /// every command that restores it refuses, instead of printing NaN figures or pictures.
    func testACheckpointHoldingAnInfiniteParameterIsRefused() throws {
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out]).status, 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint.latent")))
        let headerLength = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        let infinity = withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian, Array.init)
        bytes.replaceSubrange((16 + headerLength)..<(20 + headerLength), with: infinity)
        bytes.replaceSubrange((bytes.count - 4)..., with: withUnsafeBytes(of: crc32(Array(bytes.dropLast(4))).littleEndian, Array.init))
        let damaged = try write("infinite.latent", bytes)
        let result = try LatentProcess.run(["eval", damaged, "--json"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.out, [])
        XCTAssertEqual(result.error.count, 1)
        XCTAssertTrue(result.error[0].hasPrefix("latent: checkpoint \(damaged) does not fit this model: "), result.error[0])
        XCTAssertTrue(result.error[0].hasSuffix("holds values that are not finite"), result.error[0])
        // A finite value no training reaches makes log p(x) -inf; that was blamed on the data
        // alone (a helper's edited checkpoint, 1e30 behind a fixed checksum).
        let huge = withUnsafeBytes(of: Float(1e30).bitPattern.littleEndian, Array.init)
        bytes.replaceSubrange((16 + headerLength)..<(20 + headerLength), with: huge)
        bytes.replaceSubrange((bytes.count - 4)..., with: withUnsafeBytes(of: crc32(Array(bytes.dropLast(4))).littleEndian, Array.init))
        let edited = try LatentProcess.run(["eval", try write("huge.latent", bytes)])
        XCTAssertEqual(edited.status, 2)
        XCTAssertEqual(edited.error.count, 1)
        XCTAssertTrue(edited.error[0].contains("may lie far outside those it was trained on, or the checkpoint is damaged: its "), edited.error[0])
        XCTAssertTrue(edited.error[0].hasSuffix(" holds 1e+30, far beyond what training reaches"), edited.error[0])
    }

    /// A typo in a flag is caught before the output folder is touched: the last run's
    /// checkpoint and metrics stay as they were.
    func testABadFlagLeavesTheLastRunsFilesAlone() throws {
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "2", "--out", out]).status, 0)
        let before = try snapshot(out)
        for flags in [["--epochs", "-1"], ["--lr", "fast"], ["--batch-size", "0"], ["--latent-dim", "0"]] {
            XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--out", out] + flags).status, 2, "\(flags)")
            XCTAssertEqual(try snapshot(out), before, "\(flags)")
        }
    }

    /// An output flag naming a file the command reads (the checkpoint, the data) is refused
    /// before any work, and the file is left as it was; a folder as output is named at once too.
    func testAnOutputNamingAnInputIsRefused() throws {
        let images = try labelledImages("images")
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "bernoulli-vae", "--data", images, "--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--out", out]).status, 0)
        let checkpoint = out + "/checkpoint.latent"
        let csv = try write("points.csv", Array("a,b\n1,2\n3,1\n0,0\n5,4\n2,2\n9,1\n".utf8))
        let before = try [checkpoint, csv].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let link = path("link.latent")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: checkpoint)
        let cases: [([String], String)] = [
            (["sample", checkpoint, "--out", checkpoint], "--out \(checkpoint) is \(checkpoint), which this command reads; write the output elsewhere"),
            (["sample", checkpoint, "--out", link], "--out \(link) is \(checkpoint), which this command reads; write the output elsewhere"),
            (["eval", checkpoint, "--per-example", checkpoint], "--per-example \(checkpoint) is \(checkpoint), which this command reads; write the output elsewhere"),
            (["inpaint", checkpoint, "--data", images, "--out", checkpoint], "--out \(checkpoint) is \(checkpoint), which this command reads; write the output elsewhere"),
            (["denoise", checkpoint, "--out", checkpoint], "--out \(checkpoint) is \(checkpoint), which this command reads; write the output elsewhere"),
            (["compare", "gmm", "--data", csv, "--out", csv], "--out \(csv) is \(csv), which this command reads; write the output elsewhere"),
            (["sample", checkpoint, "--out", out], "cannot write \(out): it is a folder"),
            // Refused before the work (all the rows were scored, or four models trained, first).
            (["eval", checkpoint, "--per-example", path("missing/scores.csv")], "cannot write \(path("missing/scores.csv")): there is no folder \(path("missing"))"),
            (["compare", "gmm", "--data", csv, "--out", path("missing/gmm.svg")], "cannot write \(path("missing/gmm.svg")): there is no folder \(path("missing"))"),
            (["eval", checkpoint, "--per-example", ""], "--per-example is empty; give a file name"),
            // The data the run was trained on, when --data is not given, and the files of a data folder.
            (["denoise", checkpoint, "--out", images + "/t10k-images-idx3-ubyte"], "--out \(images)/t10k-images-idx3-ubyte is a file of \(images), which this command reads; write the output elsewhere"),
            (["inpaint", checkpoint, "--data", images, "--out", images + "/t10k-labels-idx1-ubyte"], "--out \(images)/t10k-labels-idx1-ubyte is a file of \(images), which this command reads; write the output elsewhere"),
        ]
        for (arguments, message) in cases {
            let result = try LatentProcess.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertEqual(result.error, ["latent: " + message], "\(arguments)")
        }
        XCTAssertEqual(try [checkpoint, csv].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, before)
        let trainedOnCSV = path("points")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--data", csv, "--epochs", "1", "--out", trainedOnCSV]).status, 0)
        let perExample = try LatentProcess.run(["eval", trainedOnCSV + "/checkpoint.latent", "--per-example", csv])
        XCTAssertEqual(perExample.error, ["latent: --per-example \(csv) is \(csv), which this command reads; write the output elsewhere"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: csv)), before[1], "the data the run was trained on")
    }

    /// A fresh run in a folder that holds a run keeps that run's files in `previous` (a
    /// diverging or different model's run used to replace its checkpoint, and left its pictures
    /// beside the new report); a fresh run that fails before writing puts them back.
    func testAFreshRunKeepsTheRunItReplaces() throws {
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "2", "--out", out]).status, 0)
        let first = try snapshot(out)
        let huge = try write("huge.csv", Array("a,b\n1e30,2\n3,1e30\n0,0\n5,4\n2,2\n9,1\n1,1\n2,3\n4,4\n".utf8))
        let failed = try LatentProcess.run(["train", "ppca", "--data", huge, "--epochs", "2", "--out", out])
        XCTAssertEqual(failed.status, 2, "\(failed.error)")
        XCTAssertEqual(try snapshot(out), first, "a run that failed before writing leaves the last run in place")
        XCTAssertEqual(try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--out", out]).status, 0)
        XCTAssertEqual(try snapshot(out + "/previous"), first)
        let second = try snapshot(out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/samples.png"))
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out]).status, 0)
        XCTAssertEqual(try snapshot(out + "/previous"), second)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/samples.png"), "the image model's pictures moved with its run")
        // A failing run keeps both the run it would replace and the one kept before it.
        let third = try snapshot(out)
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--data", huge, "--epochs", "2", "--out", out]).status, 2)
        XCTAssertEqual(try snapshot(out), third)
        XCTAssertEqual(try snapshot(out + "/previous"), second)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".previous") }, [])
        // A `previous` that is a link is not followed: the run stops before moving anything.
        let elsewhere = path("elsewhere")
        try FileManager.default.moveItem(atPath: out + "/previous", toPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: out + "/previous", withDestinationPath: elsewhere)
        let linked = try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out])
        XCTAssertEqual(linked.status, 2)
        XCTAssertEqual(linked.error, ["latent: cannot write \(out)/previous: it is a file or a link, not a folder; move it away to keep the run this one replaces"])
        XCTAssertEqual(try snapshot(out), third)
        XCTAssertEqual(try snapshot(elsewhere), second)
        // A `previous` holding anything a run does not write is never replaced.
        try FileManager.default.removeItem(atPath: out + "/previous")
        try FileManager.default.createDirectory(atPath: out + "/previous/notes", withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/previous/thesis.tex"))
        let foreign = try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out])
        XCTAssertEqual(foreign.error, ["latent: cannot write \(out)/previous: it holds files a run does not write (notes, thesis.tex); move them away, or choose another --out, to keep the run this one replaces"])
        XCTAssertEqual(try snapshot(out), third)
        XCTAssertEqual(try String(contentsOfFile: out + "/previous/thesis.tex", encoding: .utf8), "mine")
        // Files a run writes, in a folder with no checkpoint, are set aside as well.
        let mine = path("mine")
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try Data("my report".utf8).write(to: URL(fileURLWithPath: mine + "/report.html"))
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", mine]).status, 0)
        XCTAssertEqual(try String(contentsOfFile: mine + "/previous/report.html", encoding: .utf8), "my report")
        // A fresh run stopped before its first checkpoint leaves the run it replaced in
        // `previous`; --resume says so.
        let stopped = path("stopped")
        try FileManager.default.createDirectory(atPath: stopped + "/previous", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: out + "/checkpoint.latent", toPath: stopped + "/previous/checkpoint.latent")
        let resumed = try LatentProcess.run(["train", "ppca", "--resume", "--epochs", "2", "--out", stopped])
        XCTAssertEqual(resumed.error, ["latent: --resume: \(stopped) holds no checkpoint to resume; the run it held before a fresh run began is in \(stopped)/previous: move its files back into \(stopped) to resume it"])
        // A fresh run killed while a still older run waited aside left that one hidden, unnamed;
        // killed after its first metrics line but before its first checkpoint, the next fresh
        // run set that line aside in place of the run in `previous`, which was lost.
        try FileManager.default.createDirectory(atPath: stopped + "/.previous.1", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: out + "/checkpoint.latent", toPath: stopped + "/.previous.1/checkpoint.latent")
        try Data("{\"epoch\": 1}\n".utf8).write(to: URL(fileURLWithPath: stopped + "/metrics.jsonl"))
        let fresh = try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", stopped])
        XCTAssertEqual(fresh.status, 0, fresh.error.joined(separator: "\n"))
        XCTAssertTrue(fresh.out.contains("note: \(stopped)/.previous.1 holds a run set aside by a run of this folder that was stopped before it finished; move it back to \(stopped)/previous or elsewhere to keep it"), "\(fresh.out)")
        XCTAssertTrue(fresh.out.contains("note: \(stopped) holds metrics.jsonl of a run stopped before its first checkpoint, which this run writes over; the run before it stays in \(stopped)/previous"), "\(fresh.out)")
        XCTAssertTrue(FileManager.default.contentsEqual(atPath: stopped + "/previous/checkpoint.latent", andPath: out + "/checkpoint.latent"))
    }

    func snapshot(_ out: String) throws -> [Data] {
        try ["checkpoint.latent", "metrics.jsonl"].map { try Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent($0)) }
    }

    /// A ppca run's folder and files, then `latent train <arguments>` into it under the shell's `limits`.
    func retrain(under limits: String, _ arguments: String) throws -> (out: String, before: [Data], result: (status: Int32, out: [String], error: [String])) {
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out]).status, 0)
        let before = try snapshot(out)
        let latent = LatentProcess.productsDirectory.appendingPathComponent("latent").path
        return (out, before, try LatentProcess.run(shell: "\(limits); exec '\(latent)' train \(arguments) --out '\(out)'"))
    }

    /// A second run on a folder in use stops at once, naming the process holding it; the first
    /// run finishes with a checkpoint that restores.
    func testASecondRunOnTheSameFolderIsRefused() throws {
        let out = path("run")
        let first = try LatentProcess.start(["train", "bernoulli-vae", "--epochs", "3", "--hidden", "32", "--out", out])
        defer { if first.isRunning { first.terminate() } }
        let lock = out + "/.latent.lock"
        let deadline = Date().addingTimeInterval(20)
        while ((try? String(contentsOfFile: lock, encoding: .utf8)) ?? "").isEmpty, Date() < deadline { usleep(20_000) }
        let second = try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--out", out])
        XCTAssertEqual(second.status, 2)
        XCTAssertEqual(second.error, ["latent: \(out) is in use by another latent process (pid \(first.processIdentifier)); wait for it or choose another --out"])
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertEqual(try LatentProcess.run(["eval", out + "/checkpoint.latent", "--iwae", "2"]).status, 0)
    }

    /// A disk that fills up (simulated: the process may not write past 512 bytes per file) ends
    /// the run with the system's reason; the last checkpoint and metrics are untouched and no
    /// temporary file is left (the limit's signal, SIGXFSZ, had ended the process and left one).
    func testAFullDiskKeepsTheLastCheckpoint() throws {
        let (out, before, result) = try retrain(under: "ulimit -f 1", "bernoulli-vae --epochs 1 --hidden 16")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.error.last, "latent: cannot write \(out)/checkpoint.latent: File too large")
        XCTAssertEqual(try snapshot(out), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".tmp") }, [])
    }

    /// Under a limit on address space (`ulimit -v`, common on shared clusters), a minibatch
    /// past what the process has left is refused with the shape and exit status 2, and the
    /// checkpoint stays; Swift aborted at the allocation before (signal 6, status 134).
    func testALimitOnAddressSpaceIsAnErrorNotAnAbort() throws {
        let (out, before, result) = try retrain(under: "ulimit -v 1000000", "bernoulli-vae --epochs 1 --batch-size 9000 --iwae 500")
        XCTAssertEqual(result.status, 2, result.error.suffix(3).joined(separator: "\n"))
        XCTAssertTrue(result.error.last?.contains("which the system would not give this process (its limit on address space, `ulimit -v`, is the usual cause)") ?? false, result.error.suffix(3).joined(separator: "\n"))
        XCTAssertEqual(try snapshot(out), before)
    }

    /// `kill -9` at six moments of a run that writes a 7.8 MB checkpoint every epoch: the
    /// checkpoint is always absent or whole (it restores), and the next run removes the
    /// temporary files the killed writers left.
    func testKillDuringCheckpointWritesNeverCorruptsIt() throws {
        let out = path("run")
        let checkpoint = out + "/checkpoint.latent"
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let run = try LatentProcess.start(["train", "bernoulli-vae", "--epochs", "50", "--batch-size", "3000", "--out", out])
            usleep(UInt32.random(in: 1_000_000...3_000_000, using: &generator))
            kill(run.processIdentifier, SIGKILL)
            run.waitUntilExit()
            if FileManager.default.fileExists(atPath: checkpoint) {
                let restored = try LatentProcess.run(["eval", checkpoint, "--iwae", "1", "--rows", "10"])
                XCTAssertEqual(restored.status, 0, restored.error.joined(separator: "\n"))
            }
        }
        XCTAssertEqual(try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--hidden", "16", "--out", out]).status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".tmp") }, [])
    }

    /// A checkpoint whose image shape multiplies past Int.max (its checksum made right) is
    /// refused as not images, not a trap.
    func testAnImageShapeThatOverflowsIsRefused() throws {
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "bernoulli-vae", "--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--out", out]).status, 0)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoint.latent")))
        let headerLength = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
        var header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + headerLength)])) as? [String: Any])
        var metadata = try XCTUnwrap(header["metadata"] as? [String: String])
        XCTAssertEqual(metadata["image shape"], "28x28")
        metadata["image shape"] = "4294967296x4294967296"
        header["metadata"] = metadata
        let changed = [UInt8](try JSONSerialization.data(withJSONObject: header))
        var rebuilt = Array(bytes[0..<12]) + withUnsafeBytes(of: UInt32(changed.count).littleEndian, Array.init) + changed + Array(bytes[(16 + headerLength)..<(bytes.count - 4)])
        rebuilt += withUnsafeBytes(of: crc32(rebuilt).littleEndian, Array.init)
        let damaged = try write("overflow.latent", rebuilt)
        for command in ["sample", "inpaint", "denoise"] {
            let result = try LatentProcess.run([command, damaged])
            XCTAssertEqual(result.status, 2, command)
            XCTAssertEqual(result.error.count, 1, "\(command): \(result.error)")
            XCTAssertTrue(result.error.first?.contains("was trained on rows that are not images") ?? false, "\(command): \(result.error)")
        }
    }

    /// A pipe or a folder given as a data file is named as such, at once (opening a pipe with
    /// no writer once waited forever).
    func testAPipeOrAFolderAsDataIsNamed() throws {
        for name in ["pipe.csv", "pipe.npy"] {
            XCTAssertEqual(mkfifo(path(name), 0o600), 0)
            let result = try LatentProcess.run(["train", "ppca", "--data", path(name), "--out", path("run")])
            XCTAssertEqual(result.status, 2)
            XCTAssertEqual(result.error, ["latent: \(path(name)): it is not a regular file (a pipe or a device); data are read from files"])
        }
    }

    /// Rows the model gives no probability (log p(x) = -inf) are an error naming the first of
    /// them, with nothing printed before it.
    func testRowsOfZeroProbabilityAreNamed() throws {
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", path("run")]).status, 0)
        let rows = (0..<20).map { "\($0 % 3 == 1 ? "1e30" : "0.5"),-0.25" }
        let data = try write("far.csv", Array(rows.joined(separator: "\n").utf8))
        let result = try LatentProcess.run(["eval", path("run") + "/checkpoint.latent", "--data", data, "--split", "all", "--iwae", "2"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.out, [])
        XCTAssertEqual(result.error, ["latent: row 1 of \(data): log p(x) is -inf under this model (k = 2); its values may lie far outside those it was trained on"])
    }

    /// Parameters driven to NaN by too large a step stop training with the step and the site.
    func testDivergenceNamesTheStepAndTheSite() throws {
        let result = try LatentProcess.run(["train", "bernoulli-vae", "--hidden", "8", "--latent-dim", "2", "--epochs", "2", "--lr", "10", "--optimizer", "sgd", "--out", path("run")])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.error.count, 1, "\(result.error)")
        let message = result.error.first ?? ""
        XCTAssertTrue(message.hasPrefix("latent: training diverged at step "), message)
        // The encoder's location is the first to overflow (the decoder's logits followed).
        XCTAssertTrue(message.contains("site 'z' at LatentModels/BernoulliVAE.swift:14: Normal: parameter 'loc' must be finite, got inf"), message)
        XCTAssertTrue(message.hasSuffix("lower the learning rate or check the model"), message)
    }

    /// A CSV file that starts with a byte-order mark is read from its first row; a mixture
    /// trained on labelled images draws reconstructions at each image's most probable component
    /// (a Categorical's mean is no value of the site).
    func testAByteOrderMarkAndADiscreteLatentsPictures() throws {
        let rows = (0..<30).map { String(format: "%.3f,%.3f", sin(Double($0)), cos(Double($0))) }
        let data = try write("marked.csv", [0xEF, 0xBB, 0xBF] + Array(rows.joined(separator: "\n").utf8))
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--data", data, "--epochs", "1", "--out", path("ppca")]).status, 0)
        let all = try LatentProcess.run(["eval", path("ppca") + "/checkpoint.latent", "--split", "all", "--json"])
        XCTAssertEqual(all.status, 0, all.error.joined(separator: "\n"))
        let report = try XCTUnwrap(all.out.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        XCTAssertEqual(report["rows"] as? Int, 30, "every row is data, none a header")
        let mixture = try LatentProcess.run(["train", "gmm", "--data", try labelledImages("images"), "--epochs", "1", "--out", path("gmm")])
        XCTAssertEqual(mixture.status, 0, mixture.error.joined(separator: "\n"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("gmm") + "/reconstructions.png"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("gmm") + "/report.html"))
    }

    /// A device is written directly, never replaced by a rename.
    func testWritingToADevice() throws {
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out]).status, 0)
        let full = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--iwae", "2", "--per-example", "/dev/full"])
        XCTAssertEqual(full.status, 2)
        XCTAssertEqual(full.error, ["latent: cannot write /dev/full: No space left on device"])
        var status = stat()
        XCTAssertEqual(stat("/dev/full", &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFCHR, "/dev/full is still a device")
        let standardOutput = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--iwae", "2", "--per-example", "/dev/stdout"])
        XCTAssertEqual(standardOutput.status, 0)
        XCTAssertEqual(standardOutput.out.first, "row,negative_log_likelihood,negative_log_reconstruction_probability")
    }

    /// `/dev/stdout` redirected to a file by the shell is written where the redirection points,
    /// in order with the rest of the output; the link `/dev/stdout` and the file stay as they
    /// were (a rename over `/dev/stdout` once replaced the link, for every later process).
    func testStandardOutputRedirectedToAFile() throws {
        let out = path("run"), redirected = path("printed.txt")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out]).status, 0)
        var before = stat()
        XCTAssertEqual(lstat("/dev/stdout", &before), 0)
        let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/dev/stdout")
        defer {
            if let link, (try? FileManager.default.destinationOfSymbolicLink(atPath: "/dev/stdout")) == nil, unlink("/dev/stdout") == 0 {
                _ = symlink(link, "/dev/stdout")
            }
        }
        let latent = LatentProcess.productsDirectory.appendingPathComponent("latent").path
        let run = try LatentProcess.run(shell: "'\(latent)' eval '\(out)/checkpoint.latent' --iwae 2 --per-example /dev/stdout > '\(redirected)'")
        XCTAssertEqual(run.status, 0, run.error.joined(separator: "\n"))
        var after = stat()
        XCTAssertEqual(lstat("/dev/stdout", &after), 0)
        XCTAssertEqual(after.st_mode & S_IFMT, before.st_mode & S_IFMT, "/dev/stdout is what it was")
        XCTAssertEqual(after.st_ino, before.st_ino)
        let lines = try String(contentsOfFile: redirected, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "row,negative_log_likelihood,negative_log_reconstruction_probability")
        XCTAssertEqual(lines.count, 1 + 1000 + 1, "the header, the 1000 held-out rows, then the summary")
        XCTAssertTrue(lines.last?.hasPrefix("ELBO ") ?? false, String(lines.last ?? ""))
    }

    /// A symbolic link is followed: the file it names is replaced and the link stays a link,
    /// also when the file does not exist yet.
    func testWritingThroughASymbolicLink() throws {
        let out = path("run")
        XCTAssertEqual(try LatentProcess.run(["train", "ppca", "--epochs", "1", "--out", out]).status, 0)
        try FileManager.default.createDirectory(atPath: path("kept"), withIntermediateDirectories: true)
        try "old".write(toFile: path("kept/scores.csv"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: path("link.csv"), withDestinationPath: "kept/scores.csv")
        try FileManager.default.createSymbolicLink(atPath: path("dangling.csv"), withDestinationPath: path("kept/new.csv"))
        for (link, target) in [("link.csv", "kept/scores.csv"), ("dangling.csv", "kept/new.csv")] {
            let run = try LatentProcess.run(["eval", out + "/checkpoint.latent", "--iwae", "2", "--per-example", path(link)])
            XCTAssertEqual(run.status, 0, run.error.joined(separator: "\n"))
            var status = stat()
            XCTAssertEqual(lstat(path(link), &status), 0)
            XCTAssertEqual(status.st_mode & S_IFMT, S_IFLNK, "\(link) is still a link")
            let written = try String(contentsOfFile: path(target), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(written.first, "row,negative_log_likelihood,negative_log_reconstruction_probability", target)
            XCTAssertEqual(written.count, 1001, target)
        }
    }

    /// Inpainting masks at least one pixel and keeps at least one in every image: a centre block
    /// on images under 4 pixels a side once masked nothing and scored a mean error of 0, and the
    /// lower half of a one-row image is all of it.
    func testAnInpaintingMaskLeavesPixelsKnownAndMissing() throws {
        func images(_ height: Int, _ width: Int) throws -> String {
            var bytes = npy("(40, \(height), \(width))")
            for i in 0..<(40 * height * width) { bytes += withUnsafeBytes(of: Float((i * 7919) % 3 == 0 ? 1 : 0).bitPattern.littleEndian, Array.init) }
            return try write("images\(height)x\(width).npy", bytes)
        }
        for (height, width, mask, refusal) in [(3, 3, "block", nil), (1, 6, "block", nil), (1, 6, "half", "--mask half leaves no pixel known in test image 0 (1 x 6 pixels); choose another --mask")] {
            let data = try images(height, width), out = path("run\(height)x\(width)")
            let train = try LatentProcess.run(["train", "bernoulli-vae", "--data", data, "--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--out", out])
            XCTAssertEqual(train.status, 0, train.error.joined(separator: "\n"))
            let inpaint = try LatentProcess.run(["inpaint", out + "/checkpoint.latent", "--mask", mask, "--n", "3", "--proposals", "50", "--out", path("inpaint.png"), "--json"])
            if let refusal {
                XCTAssertEqual(inpaint.status, 2)
                XCTAssertEqual(inpaint.error, ["latent: " + refusal])
            } else {
                XCTAssertEqual(inpaint.status, 0, inpaint.error.joined(separator: "\n"))
                // The one masked pixel (the centre) of binary images is off by exactly 0.5 when filled with 0.5.
                let figures = try XCTUnwrap(inpaint.out.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
                XCTAssertEqual(try XCTUnwrap(figures["mean_error_fill_half"] as? Double), 0.5, accuracy: 1e-9, "\(height) x \(width)")
            }
        }
    }
}

import CKernels
import Foundation
import Distributions
import Inference
import NN
import Optim
import PPL
import TensorCore
import XCTest

/// The checkpoint loader against crafted files with a valid checksum (lying sizes, unknown
/// groups, repeated names) and hundreds of seeded byte flips and truncations, and `fit`'s
/// resume against state that does not fit the model: each is an error naming the file, never a
/// trap or a write out of bounds.
final class CheckpointFaultTests: XCTestCase {
    /// A checkpoint file of `entries` and `floats` behind a valid CRC-32, as a writer would lay it out.
    func file(_ entries: [[String: Any]], metadata: [String: String] = ["model": "m"], floats: [Float] = [], headerLength: UInt32? = nil) throws -> Data {
        let header = try JSONSerialization.data(withJSONObject: ["tensors": entries, "metadata": metadata])
        var data = Data("LATENTCK".utf8)
        withUnsafeBytes(of: Checkpoint.formatVersion.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: (headerLength ?? UInt32(header.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        floats.withUnsafeBytes { data.append(contentsOf: $0) }
        let crc = data.withUnsafeBytes { latent_crc32(0, $0.bindMemory(to: UInt8.self).baseAddress, Int64($0.count)) }
        withUnsafeBytes(of: crc.littleEndian) { data.append(contentsOf: $0) }
        return data
    }

    func testCraftedFilesWithAValidChecksum() throws {
        let cases: [(Data, String)] = [
            (try file([["name": "a", "group": "model", "shape": [1 << 61]]]), "tensor 'a' of shape [2305843009213693952] needs more bytes than the file has left"),
            (try file([["name": "a", "group": "model", "shape": [1 << 32, 1 << 32]]]), "tensor 'a' of shape [4294967296, 4294967296] needs more bytes than the file has left"),
            (try file([["name": "a", "group": "model", "shape": [-2, 3]]], floats: [1]), "tensor 'a' of shape [-2, 3] needs more bytes than the file has left"),
            (try file([["name": "a", "group": "model", "shape": [2]]], floats: [1]), "tensor 'a' of shape [2] needs more bytes than the file has left"),
            (try file([["name": "a", "group": "model", "shape": [1]], ["name": "b", "group": "model", "shape": [Int]()]], floats: [1]),
             "tensor 'b' of shape [] needs more bytes than the file has left"),
            (try file([["name": "a", "group": "model", "shape": [1]]], floats: [1, 2]), "4 unexpected bytes after the tensors"),
            (try file([["name": "a", "group": "weights", "shape": [1]]], floats: [1]), "tensor 'a' is in an unknown group 'weights'"),
            (try file([["name": "a", "group": "model", "shape": [1]], ["name": "a", "group": "model", "shape": [1]]], floats: [1, 2]), "tensor 'a' appears twice in group 'model'"),
            (try file([], headerLength: 1 << 30), "header length 1073741824 runs past the end"),
            (try file([["name": "a", "group": "model"]]), "unreadable header"),
        ]
        for (bytes, reason) in cases {
            XCTAssertThrowsError(try Checkpoint(decoding: bytes, source: "crafted.latent")) { error in
                XCTAssertEqual("\(error)", "checkpoint crafted.latent is corrupt: \(reason)")
            }
        }
    }

    func testFlippedAndTruncatedCheckpoints() throws {
        let checkpoint = Checkpoint(modelParameters: ["w": Tensor([[1, 2], [3, 4]])], guideParameters: ["z.bias": Tensor([0.5, -1])],
                                    guideConstants: ["input mean": Tensor([0])], optimizerState: ["step": Tensor(3)], metadata: ["model": "m", "epoch": "1"])
        let valid = [UInt8](try checkpoint.encoded())
        var generator = RandomGenerator(seed: 5)
        for round in 0..<400 {
            var bytes = valid
            if round % 3 == 0 {
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            } else {
                for _ in 0...(generator.next() % 4) { bytes[Int(generator.next() % UInt64(bytes.count))] ^= UInt8(1 + generator.next() % 255) }
            }
            XCTAssertThrowsError(try Checkpoint(decoding: Data(bytes), source: "flipped.latent")) { error in
                XCTAssertTrue("\(error)".hasPrefix("checkpoint flipped.latent "), "\(error)")
            }
        }
    }

    let model = Model("m") { (x: Tensor, n: Int) in
        let w = param("w", Tensor.zeros([2]))
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(0, 1)
            observe("x", x) ~ Normal(z + w.sum(), 1)
        }
    }

    /// Saved state that does not fit: a parameter of another shape, a non-finite parameter,
    /// optimizer slots of another shape or count, a negative sum of squares, a NaN step count, a
    /// missing generator position; each message names the checkpoint's file.
    func testResumingFromStateThatDoesNotFitIsAnError() throws {
        let x = Tensor([0.5, -1, 2, 0.1])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-resume-faults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = TrainingOptions(epochs: 2, batchSize: 4, optimizer: .adam(learningRate: 0.01))
        options.checkpointPath = folder.appendingPathComponent("c.latent").path
        _ = try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(x, options: options)
        let saved = try Checkpoint.read(from: options.checkpointPath!)
        var cases: [(Checkpoint, String)] = []
        var wrongShape = saved
        wrongShape.modelParameters["w"] = Tensor([1, 2, 3])
        cases.append((wrongShape, "model parameter 'w' has shape [3], the model needs [2]"))
        var infinite = saved
        infinite.modelParameters["w"] = Tensor([1, .infinity])
        cases.append((infinite, "model parameter 'w' holds values that are not finite"))
        var slots = saved
        slots.optimizerState["model/w#0"] = Tensor.zeros([5])
        cases.append((slots, "its optimizer state does not fit: 'model/w#0' has shape [5], its parameter [2]"))
        var missingSlot = saved
        missingSlot.optimizerState["model/w#1"] = nil
        cases.append((missingSlot, "its optimizer state does not fit: parameter 'model/w' has 1 state slots, this optimizer keeps 2"))
        var negativeSquares = saved
        negativeSquares.optimizerState["model/w#1"] = Tensor([0.5, -1])
        cases.append((negativeSquares, "its optimizer state does not fit: 'model/w#1' accumulates squared gradients but holds -1.0 at element 1"))
        var nanStep = saved
        nanStep.optimizerState["step"] = Tensor(.nan)
        cases.append((nanStep, "its optimizer state does not fit: its step count is missing or not a whole number from 0 to 10^12"))
        var noSeed = saved
        noSeed.metadata["seed"] = "-1"
        cases.append((noSeed, "its 'seed' is missing or not a whole number"))
        for (checkpoint, reason) in cases {
            var resumed = options
            resumed.epochs = 4
            XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(x, options: resumed, resume: checkpoint)) { error in
                XCTAssertEqual("\(error)", "checkpoint \(options.checkpointPath!) does not fit this model: \(reason)")
            }
        }
        // As many rows with other values trained on silently.
        var resumed = options
        resumed.epochs = 4
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(x * 10, options: resumed, resume: saved)) { error in
            XCTAssertTrue("\(error)".hasSuffix("does not fit this model: it was trained on other rows than these (their number or their values differ, in the training rows or the held-out ones: the data changed since, or are other data); resuming continues only on the rows a run was trained on"), "\(error)")
        }
        XCTAssertNoThrow(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(x, options: resumed, resume: saved))
        // An epoch's metrics line is written before its checkpoint: a stop between the two
        // loses no line, since a resumed run writes again the lines after its checkpoint.
        var unwritable = options
        unwritable.checkpointPath = folder.appendingPathComponent("missing/c.latent").path
        unwritable.metricsPath = folder.appendingPathComponent("metrics.jsonl").path
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(x, options: unwritable))
        XCTAssertEqual(EpochReport.log(at: unwritable.metricsPath!).map(\.epoch), [1])
        var past = options
        past.epochs = 1
        XCTAssertThrowsError(try Amortized(model, options: CompilerOptions(hiddenSizes: [4])).fit(x, options: past, resume: saved)) { error in
            XCTAssertEqual("\(error)", "bad training options: the checkpoint is at epoch 2, past the 1 epochs asked for")
        }
        var negative = options
        negative.epochs = -1
        XCTAssertThrowsError(try Amortized(model).fit(x, options: negative)) { error in
            XCTAssertEqual("\(error)", "bad training options: epochs must be at least 0, got -1")
        }
    }
}

import Foundation
import Optim
import PPL
import TensorCore

extension RowSource where Rows: RowData {
    /// Adds the rows to `hasher`: their count and every number of the first, the last and up to
    /// 4096 spread between (all of them up to 4096 rows).
    func addSample(to hasher: inout Fingerprint) throws {
        hasher.add(rowCount)
        guard rowCount > 0 else { return }
        let stride = Swift.max(1, rowCount / 4096)
        let sampled = Array(Swift.stride(from: 0, to: rowCount, by: stride)) + [rowCount - 1]
        for start in Swift.stride(from: 0, to: sampled.count, by: 256) {
            hasher.add(try rows(at: Array(sampled[start..<Swift.min(start + 256, sampled.count)])).encoderInput)
        }
    }
}

/// The fingerprint (`addSample`) of the training rows and the held-out ones, in hexadecimal: a
/// checkpoint keeps it, and resuming on other rows is refused.
func rowsFingerprint<Input: RowData>(_ data: some RowSource<Input>, heldOut: (any RowSource<Input>)?) throws -> String {
    var hasher = Fingerprint()
    try data.addSample(to: &hasher)
    if let heldOut { try heldOut.addSample(to: &hasher) }
    return String(hasher.value, radix: 16)
}

extension Amortized {
    /// The training state after `epoch` epochs on the rows of fingerprint `rows`, as a checkpoint.
    func checkpoint(epoch: Int, rows: String, optimizer: any Optimizer, shuffler: RandomGenerator, options: TrainingOptions) -> Checkpoint {
        let baselineText = (try? sortedJSON(baselines)) ?? "{}"
        return Checkpoint(
            modelParameters: parameters.unconstrained, guideParameters: guideParameters.unconstrained,
            guideConstants: ["input mean": scaling.mean, "input scale": scaling.scale], optimizerState: optimizer.state,
            metadata: [
                "model": model.name,
                "epoch": String(epoch),
                "steps": String(stepsTaken),
                "optimizer": options.optimizer.description,
                "seed": String(generator.generator.seed),
                "streams": String(generator.generator.streamsUsed),
                "shuffle seed": String(shuffler.seed),
                "shuffle streams": String(shuffler.streamsUsed),
                "baselines": baselineText,
                "data fingerprint": rows,
            ].merging(options.checkpointMetadata) { own, _ in own })
    }

    /// Sets every parameter of the model and the guide, and the guide's input scaling, from a
    /// checkpoint (after `compile`, which creates them), checking that each fits.
    public func loadParameters(from checkpoint: Checkpoint, path: String) throws {
        func mismatch(_ reason: String) -> CheckpointError { .mismatch(path: path, reason: reason) }
        guard checkpoint.metadata["model"] == model.name else {
            throw mismatch("it was written for model '\(checkpoint.metadata["model"] ?? "?")', not '\(model.name)'")
        }
        for (prefix, store) in namespaces {
            let stored = prefix == "model/" ? checkpoint.modelParameters : checkpoint.guideParameters
            for name in store.names {
                guard let value = stored[name] else { throw mismatch("it has no \(prefix.dropLast()) parameter '\(name)'") }
                let expected = store.unconstrained[name]?.shape ?? []
                guard value.shape == expected else {
                    throw mismatch("\(prefix.dropLast()) parameter '\(name)' has shape \(value.shape), the model needs \(expected)")
                }
                guard value.isFinite else { throw mismatch("\(prefix.dropLast()) parameter '\(name)' holds values that are not finite") }
            }
            if let extra = stored.keys.sorted().first(where: { store.unconstrained[$0] == nil }) {
                throw mismatch("it has a \(prefix.dropLast()) parameter '\(extra)' that this model does not")
            }
        }
        let constants = checkpoint.guideConstants
        if let mean = constants["input mean"], let scale = constants["input scale"], handWrittenGuide == nil {
            guard mean.shape == scaling.mean.shape, scale.shape == scaling.scale.shape, mean.isFinite, scale.isFinite,
                  scale.scalars.allSatisfy({ $0 > 0 }) else {
                throw mismatch("its input scaling (shapes \(mean.shape), \(scale.shape)) does not fit the guide's \(scaling.mean.shape) or is not finite and positive")
            }
            scaling.mean = mean
            scaling.scale = scale
        }
        for (prefix, store) in namespaces {
            let stored = prefix == "model/" ? checkpoint.modelParameters : checkpoint.guideParameters
            for name in store.names { store.setUnconstrained(name, stored[name]!) }
        }
        stepsTaken = Swift.max(Int(checkpoint.metadata["steps"] ?? "") ?? 1, 1)
    }

    /// Loads a checkpoint's parameters, optimizer state, generator positions and baselines, for
    /// training on the rows of fingerprint `rows`; returns the epoch it was written after.
    func restore(_ checkpoint: Checkpoint, rows: String, optimizer: inout any Optimizer, shuffler: inout RandomGenerator) throws -> Int {
        let path = checkpoint.source
        func mismatch(_ reason: String) -> CheckpointError { .mismatch(path: path, reason: reason) }
        if let stored = checkpoint.metadata["data fingerprint"], stored != rows {
            throw mismatch("it was trained on other rows than these (their number or their values differ, in the training rows or the held-out ones: the data changed since, or are other data); resuming continues only on the rows a run was trained on")
        }
        func number(_ key: String) throws -> UInt64 {
            guard let text = checkpoint.metadata[key], let value = UInt64(text) else { throw mismatch("its '\(key)' is missing or not a whole number") }
            return value
        }
        guard let epochText = checkpoint.metadata["epoch"], let epoch = Int(epochText), epoch >= 0 else {
            throw mismatch("its epoch is missing or not a whole number >= 0")
        }
        try loadParameters(from: checkpoint, path: path)
        var shapes: [String: [Int]] = [:]
        for (prefix, store) in namespaces { for name in store.names { shapes[prefix + name] = store.unconstrained[name]!.shape } }
        do {
            try optimizer.restore(checkpoint.optimizerState, parameterShapes: shapes)
        } catch {
            throw mismatch("its optimizer state does not fit: \(error)")
        }
        generator.generator = RandomGenerator(seed: try number("seed"), streamsUsed: try number("streams"))
        shuffler = RandomGenerator(seed: try number("shuffle seed"), streamsUsed: try number("shuffle streams"))
        if let text = checkpoint.metadata["baselines"], let saved = try? JSONDecoder().decode([String: Float].self, from: Data(text.utf8)) {
            baselines = saved.filter { $0.value.isFinite }
        }
        stepsTaken = optimizer.step
        return epoch
    }
}

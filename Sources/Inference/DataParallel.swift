import Foundation
import PPL
import TensorCore

extension Amortized {
    /// What data-parallel training over `group` cannot do right, refused before the first step:
    /// a score-function site (its baseline would follow each process's own rows), and a
    /// minibatch with fewer rows than processes.
    func checkDataParallel(_ group: any Communicator, rows: Int, batchSize: Int) throws {
        if let site = plan?.sites.first(where: { $0.estimator == .scoreFunction }) {
            throw TrainingError.badOptions(reason: "site '\(site.name)' (\(site.location)) is estimated by the score function, whose baseline each of the \(group.size) processes would keep from its own rows; train it in one process")
        }
        let last = rows % batchSize
        guard batchSize >= group.size, last == 0 || last >= group.size else {
            throw TrainingError.badOptions(reason: "with \(group.size) processes every minibatch needs at least \(group.size) rows, but \(batchSize > rows ? rows : batchSize < group.size ? batchSize : last) rows make \(batchSize < group.size ? "each minibatch" : "the last minibatch of each epoch"); choose another batch size")
        }
    }

    /// Every process must start from the same state: the same rows (their count and the first
    /// ones), settings, epoch, generators and parameters. A fingerprint of these is compared across
    /// the processes (its bytes, and their squares, summed: all equal exactly when N times the sum
    /// of squares is the square of the sum), so that all of them agree on the verdict.
    func checkSameStart(_ group: any Communicator, data: some RowSource<Input>, batchSize: Int, options: TrainingOptions, startEpoch: Int, shuffler: RandomGenerator) throws {
        var hasher = Fingerprint()
        for number in [data.rowCount, batchSize, options.epochs, startEpoch, Int(truncatingIfNeeded: options.seed),
                       Int(truncatingIfNeeded: shuffler.streamsUsed), Int(truncatingIfNeeded: generator.generator.streamsUsed)] {
            hasher.add(number)
        }
        let first = try data.rows(at: Array(0..<Swift.min(16, data.rowCount))).encoderInput(columns: self.options.encoderColumns)
        let last = try data.rows(at: [data.rowCount - 1]).encoderInput(columns: self.options.encoderColumns)
        for tensor in [first, last] { hasher.add(tensor) }
        for (prefix, store) in namespaces {
            for name in store.names {
                hasher.add(prefix + name)
                if let value = store.unconstrained[name] { hasher.add(value) }
            }
        }
        let bytes = withUnsafeBytes(of: hasher.value.littleEndian) { $0.map { Float($0) } }
        var sums = bytes + bytes.map { $0 * $0 }
        try group.sum(&sums)
        let size = Float(group.size)
        guard (0..<8).allSatisfy({ size * sums[8 + $0] == sums[$0] * sums[$0] }) else {
            throw TrainingError.badOptions(reason: "the \(group.size) processes do not start alike (their rows, settings, checkpoint or model differ); give every process the same command, data and checkpoint")
        }
    }

    /// This process's gradient (weighted by its share of the minibatch) summed with every other
    /// process's: the gradient of the whole minibatch. When any process failed, every process
    /// throws the message of the first that did.
    func combined(_ outcome: Result<(value: Float, gradients: [String: Tensor]), any Error>, weight: Float, over group: any Communicator) throws -> (value: Float, gradients: [String: Tensor]) {
        let parameters = namespaces.flatMap { prefix, store in store.names.map { (key: prefix + $0, shape: store.unconstrained[$0]?.shape ?? []) } }
        let total = parameters.reduce(0) { $0 + Shape.count($1.shape) }
        var buffer = [Float](repeating: 0, count: total + 1 + group.size)
        switch outcome {
        case let .success((value, gradients)):
            buffer.withUnsafeMutableBufferPointer { out in
                var offset = 0
                for parameter in parameters {
                    let count = Shape.count(parameter.shape)
                    if let gradient = gradients[parameter.key], gradient.count == count {
                        gradient.withElements { p in for i in 0..<count { out[offset + i] = p[i] * weight } }
                    }
                    offset += count
                }
            }
            buffer[total] = value * weight
        case .failure:
            buffer[total + 1 + group.rank] = 1
        }
        try group.sum(&buffer)
        if let failed = (0..<group.size).first(where: { buffer[total + 1 + $0] > 0 }) {
            var message = [UInt8](repeating: 0, count: 4096)
            if failed == group.rank, case let .failure(error) = outcome {
                for (i, byte) in "\(error)".utf8.prefix(message.count).enumerated() { message[i] = byte }
            }
            try group.broadcast(&message, from: failed)
            if failed == group.rank, case let .failure(error) = outcome { throw error }
            throw ProcessFailure(rank: failed, message: String(decoding: message.prefix { $0 != 0 }, as: UTF8.self))
        }
        var gradients: [String: Tensor] = [:]
        var offset = 0
        for parameter in parameters {
            let count = Shape.count(parameter.shape)
            gradients[parameter.key] = buffer.withUnsafeBufferPointer { source in
                Tensor.build(parameter.shape) { out in out.update(from: source.baseAddress! + offset, count: count) }
            }
            offset += count
        }
        return (buffer[total], gradients)
    }
}

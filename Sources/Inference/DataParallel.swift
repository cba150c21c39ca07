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

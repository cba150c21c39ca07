import Foundation

/// The processes of a data-parallel training job (MPI's ranks): each takes its share of every
/// minibatch, the gradients are summed over all of them, and every process applies the same
/// update, so that the job trains as one process with the whole minibatch would.
public protocol Communicator: AnyObject {
    /// This process's number, `0..<size`; process 0 alone writes checkpoints and metrics.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` on every process by their elementwise sum over all processes (the
    /// same array, of the same length, on each).
    func sum(_ values: inout [Float]) throws
    /// Replaces `bytes` on every process by those of process `root` (the same length on each).
    func broadcast(_ bytes: inout [UInt8], from root: Int) throws
}

/// A failure that every process of the job shares: one process's, sent to all, or a verdict
/// they reached together; every process stops with it.
public struct ProcessFailure: Error, CustomStringConvertible {
    /// The process that failed first, nil for a verdict of all.
    public let rank: Int?
    /// What it failed with.
    public let message: String
    public var description: String { (rank.map { "process \($0): " } ?? "") + message }
}

/// `size` communicators in one program, one per thread: the same sums and broadcasts as over
/// MPI (in a fixed order), for tests of data-parallel training without MPI.
package final class ThreadGroup: @unchecked Sendable {
    private let condition = NSCondition()
    private var deposits: [[Float]]
    private var bytes: [[UInt8]]
    private var arrived = 0
    private var generation = 0
    let size: Int

    package init(size: Int) {
        self.size = size
        deposits = Array(repeating: [], count: size)
        bytes = Array(repeating: [], count: size)
    }

    /// The communicator of member `rank`.
    package func member(_ rank: Int) -> Communicator { Member(group: self, rank: rank) }

    /// Leaves `value` as member `rank`'s deposit, waits for every member's, and returns them all.
    private func exchange<T>(_ value: T, rank: Int, in slots: ReferenceWritableKeyPath<ThreadGroup, [T]>) -> [T] {
        condition.lock()
        defer { condition.unlock() }
        self[keyPath: slots][rank] = value
        waitForEveryMember()
        let all = self[keyPath: slots]
        // Again, so that no member overwrites a slot before every member has read.
        waitForEveryMember()
        return all
    }

    /// Returns once every member has called it (the lock held).
    private func waitForEveryMember() {
        let round = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == round { condition.wait() }
        }
    }

    private final class Member: Communicator {
        let group: ThreadGroup
        let rank: Int
        var size: Int { group.size }

        init(group: ThreadGroup, rank: Int) {
            self.group = group
            self.rank = rank
        }

        func sum(_ values: inout [Float]) throws {
            let all = group.exchange(values, rank: rank, in: \.deposits)
            for i in values.indices { values[i] = all.reduce(0) { $0 + $1[i] } }
        }

        func broadcast(_ bytes: inout [UInt8], from root: Int) throws {
            bytes = group.exchange(bytes, rank: rank, in: \.bytes)[root]
        }
    }
}

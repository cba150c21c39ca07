import CKernels
import Synchronization

/// A seeded, counter-based random generator (Philox4x32-10, Salmon et al. 2011).
///
/// Every bulk draw takes a fresh stream id from the generator, and element `i` of the draw
/// is a pure function of (seed, stream, i): the numbers do not depend on how many threads
/// fill the tensor, and the same seed always gives the same tensors in the same order.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    /// The seed this generator was created with.
    public let seed: UInt64
    /// Streams used so far; the next draw uses stream `streamsUsed`.
    public private(set) var streamsUsed: UInt64 = 0
    /// This process's share of the minibatch when several processes split it; draws along
    /// the share's axis take the numbers of these rows in the whole minibatch.
    public var rowShare: RowShare?

    /// A generator whose output is determined by `seed`.
    public init(seed: UInt64) {
        self.seed = seed
    }

    /// A generator at the given position: the state saved by a checkpoint.
    public init(seed: UInt64, streamsUsed: UInt64) {
        self.seed = seed
        self.streamsUsed = streamsUsed
    }

    /// 64 random bits (one stream per call).
    public mutating func next() -> UInt64 {
        let block = Philox.block(key: seed, stream: nextStream(), counter: 0)
        return UInt64(block.0) << 32 | UInt64(block.1)
    }

    /// Reserves a stream id for one bulk draw.
    mutating func nextStream() -> UInt64 {
        defer { streamsUsed &+= 1 }
        return streamsUsed
    }
}

/// The rows `offset..<(offset + count)` of a minibatch of `total` rows that one of several
/// processes holds. A draw whose axis `axis` runs over these rows gives each element the
/// number it has in the same draw over all `total` rows, so that a job split over processes
/// draws exactly what one process would.
public struct RowShare: Sendable, Equatable {
    public let offset: Int
    public let count: Int
    public let total: Int
    /// The axis of the next draw that runs over the rows; nil for draws that do not (a global
    /// latent, which every process draws whole and alike).
    public var axis: Int?

    public init(offset: Int, count: Int, total: Int, axis: Int? = nil) {
        self.offset = offset
        self.count = count
        self.total = total
        self.axis = axis
    }

    /// The place in the whole draw of element `index` of this process's draw of `shape`, in
    /// which `shape[axis] == count`: its row moved by `offset` among `total`.
    @inline(__always)
    func wholeIndex(_ index: Int, inner: Int) -> Int {
        let row = (index / inner) % count, outer = index / (inner * count)
        return (outer * total + offset + row) * inner + index % inner
    }
}

/// The Philox4x32-10 block function: 4 random 32-bit words for each (key, stream, counter).
package enum Philox {
    package static func block(key: UInt64, stream: UInt64, counter: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2 = UInt32(truncatingIfNeeded: stream), c3 = UInt32(truncatingIfNeeded: stream >> 32)
        var k0 = UInt32(truncatingIfNeeded: key), k1 = UInt32(truncatingIfNeeded: key >> 32)
        for _ in 0..<10 {
            let product0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let product1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let (high0, low0) = (UInt32(product0 >> 32), UInt32(truncatingIfNeeded: product0))
            let (high1, low1) = (UInt32(product1 >> 32), UInt32(truncatingIfNeeded: product1))
            (c0, c1, c2, c3) = (high1 ^ c1 ^ k0, low1, high0 ^ c3 ^ k1, low0)
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// A uniform float in the open interval (0, 1) from 32 random bits (`latent_open_unit`).
    @inline(__always)
    package static func openUnit(_ bits: UInt32) -> Float {
        latent_open_unit(bits)
    }
}

/// The generator used when a sampling call is given none; seeded with `setRandomSeed`.
package enum GlobalRandom {
    package static let generator = Mutex(RandomGenerator(seed: 0))

    package static func withGenerator<R>(_ body: (inout RandomGenerator) -> R) -> R {
        generator.withLock { body(&$0) }
    }
}

/// Reseeds the global generator used by sampling calls that are given no generator.
public func setRandomSeed(_ seed: UInt64) {
    GlobalRandom.generator.withLock { $0 = RandomGenerator(seed: seed) }
}

extension RandomGenerator {
    /// A uniformly random order of `0..<count` (Fisher-Yates), drawn from this generator.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<Swift.max(count, 0))
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(next() % UInt64(i + 1)))
        }
        return order
    }
}

import Foundation
import Synchronization

/// The memory held by large tensors, counted so that a run asking for more than the machine
/// has fails with an error naming the shape instead of being killed by the system.
///
/// Each tensor may be as large as physical memory (`Shape.maximumElements`); this adds up the
/// tensors alive at once. Only tensors of `LargeBlocks.elementCount` elements or more are
/// counted, so small ones, the many of a step, cost no atomic update.
package enum TensorMemory {
    /// Elements held by the large tensors alive now.
    private static let held = Atomic<Int>(0)
    private static let storedLimit = Atomic<Int>(Shape.maximumElements)

    /// The most elements the large tensors may hold at once: as many floats as the machine has
    /// memory for (lowered by tests).
    package static var limit: Int {
        get { storedLimit.load(ordering: .relaxed) }
        set { storedLimit.store(newValue, ordering: .relaxed) }
    }

    static func allocated(_ count: Int) {
        if count >= LargeBlocks.elementCount { held.add(count, ordering: .relaxed) }
    }

    static func freed(_ count: Int) {
        if count >= LargeBlocks.elementCount { held.subtract(count, ordering: .relaxed) }
    }

    /// Why a tensor of `shape` cannot be made.
    struct Refusal: Error {
        let message: String
    }

    /// The element count of a new tensor of `shape`, or why it cannot be made: a negative
    /// dimension, more elements than the machine has memory for, or more than fit beside the
    /// tensors alive (their sum may not pass `limit`).
    static func count(allocating shape: [Int]) -> Result<Int, Refusal> {
        guard let count = Shape.checkedCount(shape) else {
            return .failure(Refusal(message: "shape \(Shape.describe(shape)) has a negative dimension or more elements than this machine has memory for"))
        }
        let now = held.load(ordering: .relaxed), limit = self.limit
        guard count > limit - now else { return .success(count) }
        let gigabytes = { (elements: Int) in String(format: "%.3g GB", Double(elements) * 4 / 1e9) }
        return .failure(Refusal(message: "shape \(Shape.describe(shape)) needs \(gigabytes(count)) beside the \(gigabytes(now)) the tensors alive already hold, more than this machine's \(gigabytes(limit)) of memory"))
    }
}

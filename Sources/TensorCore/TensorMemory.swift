import CKernels
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
    private static let storedLimit = Atomic<Int>(Int(usableBytes() / 4))

    /// The most elements the large tensors may hold at once: as many floats as fit in the
    /// memory this process may use (`usableBytes`; lowered by tests).
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
        let gigabytes = { (elements: Int) in String(format: "%.3g GB", Double(elements) * 4 / 1e9) }
        // What a user can change: the rows and samples drawn at once make the largest tensors.
        let remedy = "; fewer rows per minibatch or fewer samples per row need less"
        guard count <= limit - now else {
            return .failure(Refusal(message: "shape \(Shape.describe(shape)) needs \(gigabytes(count)) beside the \(gigabytes(now)) the tensors alive already hold, more than the \(gigabytes(limit)) of memory this process may use" + remedy))
        }
        guard count < LargeBlocks.elementCount || systemGrants(count) else {
            return .failure(Refusal(message: "shape \(Shape.describe(shape)) needs \(gigabytes(count)) beside the \(gigabytes(now)) the tensors alive already hold, which the system would not give this process (its limit on address space, `ulimit -v`, is the usual cause)" + remedy))
        }
        return .success(count)
    }

    /// Whether the allocator can have a block of `count` floats now. Swift stops the process
    /// when an allocation fails, so a large one is tried first: under `ulimit -v` 1 GB, a
    /// minibatch past what the address space had left aborted training instead of failing.
    private static func systemGrants(_ count: Int) -> Bool {
        LargeBlocks.keptInHeap
        return latent_can_allocate(Int64(count * MemoryLayout<Float>.stride + 256)) != 0
    }

    /// Nine tenths of the least of: the memory available when the process started (Linux's
    /// MemAvailable, physical memory where it is not known), its control group's limit, and its
    /// limits on address space and data. Physical memory alone let a run pass what other
    /// processes left it and be killed by the system instead of refused.
    package static func usableBytes() -> UInt64 {
        var bytes = ProcessInfo.processInfo.physicalMemory
        func number(in path: String, after prefix: String = "") -> UInt64? {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
            let line = prefix.isEmpty ? text : text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init) ?? ""
            return UInt64(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").first ?? "")
        }
        if let kilobytes = number(in: "/proc/meminfo", after: "MemAvailable:") { bytes = Swift.min(bytes, kilobytes * 1024) }
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let limit = number(in: path) { bytes = Swift.min(bytes, limit) }
        }
        for resource in [RLIMIT_AS, RLIMIT_DATA] {
            var limit = rlimit()
            #if os(Linux)
            let got = getrlimit(__rlimit_resource_t(resource.rawValue), &limit)
            #else
            let got = getrlimit(resource, &limit)
            #endif
            if got == 0, limit.rlim_cur != rlim_t.max { bytes = Swift.min(bytes, UInt64(limit.rlim_cur)) }
        }
        return Swift.min(bytes / 10 * 9, UInt64(Shape.maximumElements) * 4)
    }
}

import Dispatch
import Foundation
import Synchronization

/// How many threads the kernels may use. Defaults to the machine's active processor count.
/// Results do not depend on it: random numbers are drawn per element index, and each
/// output element of a kernel is computed by one thread in a fixed order.
public enum ComputeThreads {
    private static let storage = Atomic<Int>(ProcessInfo.processInfo.activeProcessorCount)

    /// The number of threads, at least 1.
    public static var count: Int {
        get { storage.load(ordering: .relaxed) }
        set { storage.store(Swift.max(1, newValue), ordering: .relaxed) }
    }
}

/// Runs `body(part)` for `part` in `0..<parts`, concurrently when there is more than one part.
func parallelFor(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 {
        if parts == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let unchecked = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: parts) { unchecked.value($0) }
    }
}

/// Lets a closure that only touches disjoint memory per call cross into worker threads.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

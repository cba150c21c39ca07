import CKernels
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

/// Runs `body(part)` for `part` in `0..<parts`, spread over `ComputeThreads.count` threads.
package func parallelFor(_ parts: Int, _ body: @escaping (Int) -> Void) {
    let threads = Swift.min(parts, ComputeThreads.count)
    if threads <= 1 {
        for part in 0..<parts { body(part) }
        return
    }
    WorkerPool.shared.run(parts, threads: threads, body)
}

/// Elementwise work on fewer elements than this stays on the calling thread: handing it to
/// another thread costs more than it saves.
let elementsWorthSplitting = 1 << 16

/// Runs `body(start, count)` over `0..<count` split into `partsPerThread` contiguous chunks per
/// thread, each taken by whichever thread is free (one chunk when `count` is below
/// `elementsWorthSplitting`). More than one a thread evens out chunks that cost unequal time.
package func parallelChunks(_ count: Int, partsPerThread: Int = 1, _ body: @escaping (_ start: Int, _ count: Int) -> Void) {
    let parts = count < elementsWorthSplitting ? 1 : ComputeThreads.count * partsPerThread
    parallelFor(parts) { part in
        let start = count * part / parts
        body(start, count * (part + 1) / parts - start)
    }
}

/// Lets a closure that only touches disjoint memory per call cross into worker threads.
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}

/// Persistent worker threads that spin briefly for the next job before sleeping.
///
/// A training step issues many matrix products of a fraction of a millisecond each; waking a
/// sleeping thread for each costs tens of microseconds, a fifth of the work. Workers therefore
/// spin for up to `spinTime` after a job, as OpenMP runtimes do, and then sleep on a condition.
/// The caller takes parts too, and waits until every part is finished.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker spins before it sleeps.
    static let spinTime: UInt64 = 2_000_000

    private let generation = Atomic<Int>(0)
    private let nextPart = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    private let jobLock = NSLock()
    private var workerCount = 0
    private var parts = 0
    private var body: (Int) -> Void = { _ in }

    /// Runs `body` over `parts` with up to `threads` threads (this one included). A call made
    /// while another job is running (for example from inside a body) runs serially.
    func run(_ parts: Int, threads: Int, _ body: @escaping (Int) -> Void) {
        guard jobLock.try() else {
            for part in 0..<parts { body(part) }
            return
        }
        defer { jobLock.unlock() }
        while workerCount < threads - 1 { startWorker() }
        self.body = body
        self.parts = parts
        finished.store(0, ordering: .releasing)
        nextPart.store(0, ordering: .releasing)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
        work()
        var spins = 0
        while finished.load(ordering: .acquiring) < parts {
            spins += 1
            if spins & 1023 == 0 { sched_yield() }
            latent_cpu_relax()
        }
    }

    /// Takes and runs parts of the current job until none is left.
    private func work() {
        while true {
            let part = nextPart.add(1, ordering: .acquiringAndReleasing).oldValue
            guard part < parts else { return }
            body(part)
            finished.add(1, ordering: .releasing)
        }
    }

    private func startWorker() {
        workerCount += 1
        let thread = Thread { [unowned self] in self.workerLoop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func workerLoop() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            seen = waitForJob(after: seen)
            work()
        }
    }

    /// Spins until the generation moves past `seen`, then sleeps; returns the new generation.
    private func waitForJob(after seen: Int) -> Int {
        let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinTime
        var spins = 0
        while true {
            let current = generation.load(ordering: .acquiring)
            if current != seen { return current }
            spins += 1
            if spins & 1023 == 0 {
                if DispatchTime.now().uptimeNanoseconds > deadline { break }
                sched_yield()
            }
            latent_cpu_relax()
        }
        condition.lock()
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        condition.unlock()
        return generation.load(ordering: .acquiring)
    }
}

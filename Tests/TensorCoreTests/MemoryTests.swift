import Foundation
import TensorCore
import XCTest

/// Training does not leak: the tape and every intermediate tensor are freed after each step.
final class MemoryTests: XCTestCase {
    /// Peak resident memory of this process in bytes.
    func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return usage.ru_maxrss * 1024
        #else
        return usage.ru_maxrss
        #endif
    }

    func testTenThousandTrainingStepsKeepMemoryFlat() throws {
        var generator = RandomGenerator(seed: 1)
        let x = Tensor.randomNormal([64, 32], using: &generator)
        var weights = Tensor.randomNormal([32, 16], using: &generator) * 0.1
        var bias = Tensor.zeros([16])
        func step() throws {
            let (_, gradients) = try valueWithGradient(at: [weights, bias]) { p in
                logSigmoid(relu(matmul(x, p[0]) + p[1])).mean()
            }
            weights = weights + 0.01 * gradients[0]
            bias = bias + 0.01 * gradients[1]
        }
        for _ in 0..<1_000 { try step() }
        let afterWarmUp = peakResidentBytes()
        for _ in 0..<9_000 { try step() }
        let growth = peakResidentBytes() - afterWarmUp
        // One step allocates about 100 KB; a leak of one tape per step would add ~1 GB.
        XCTAssertLessThan(growth, 4 << 20, "peak resident memory grew by \(growth) bytes over 9,000 steps")
        XCTAssertTrue(weights.isFinite)
    }
}

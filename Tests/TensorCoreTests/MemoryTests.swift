import Foundation
import TensorCore
import XCTest

/// Training does not leak: the tape and every intermediate tensor are freed after each step.
final class MemoryTests: XCTestCase {
    /// This process's resource usage so far.
    func usage() -> rusage {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return usage
    }

    /// Peak resident memory of this process in bytes.
    func peakResidentBytes() -> Int {
        #if os(Linux)
        return usage().ru_maxrss * 1024
        #else
        return usage().ru_maxrss
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

    /// Tensors of a few MB made and dropped together, as a training step does, come back from
    /// the allocator's heap: no fresh pages from the system each round.
    func testLargeTensorsAreReusedWithoutNewPages() throws {
        #if !canImport(Glibc)
        throw XCTSkip("the allocator's thresholds are set for glibc only")
        #else
        func makeAndDrop(_ value: Float) -> Float {
            let tensors = (0..<8).map { Tensor.full([512, 512], value + Float($0)) }
            return tensors.map { $0.sum().scalar }.reduce(0, +)
        }
        _ = makeAndDrop(0)
        let before = usage().ru_minflt
        var total: Float = 0
        for r in 1...20 { total += makeAndDrop(Float(r)) }
        let faults = usage().ru_minflt - before
        XCTAssertEqual(total, 262_144 * (8 * 210 + 20 * 28), "the tensors' sums")
        // Each round touches 2,048 pages of 4 KB; mapped afresh, 20 rounds would fault ~40,000.
        XCTAssertLessThan(faults, 2_048, "\(faults) minor page faults over 20 rounds of 8 MB")
        #endif
    }
}

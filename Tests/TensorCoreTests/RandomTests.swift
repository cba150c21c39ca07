import Foundation
import TensorCore
import XCTest

/// Samplers against their known moments with fixed seeds. With n draws, a sample mean is
/// within 4 standard errors (sigma / sqrt(n)) of the true mean except with probability 6e-5;
/// the variance check uses the standard error of the sample variance, sqrt((mu4 - sigma^4) / n).
final class RandomTests: XCTestCase {
    let n = 200_000

    func assertMoments(_ sample: Tensor, mean: Double, variance: Double, fourthCentral: Double, file: StaticString = #filePath, line: UInt = #line) {
        let values = sample.scalars.map(Double.init)
        let count = Double(values.count)
        let sampleMean = values.reduce(0, +) / count
        let sampleVariance = values.reduce(0) { $0 + ($1 - sampleMean) * ($1 - sampleMean) } / (count - 1)
        XCTAssertEqual(sampleMean, mean, accuracy: 4 * (variance / count).squareRoot(), "mean", file: file, line: line)
        XCTAssertEqual(sampleVariance, variance, accuracy: 4 * ((fourthCentral - variance * variance) / count).squareRoot(), "variance", file: file, line: line)
    }

    func testUniformMoments() {
        var generator = RandomGenerator(seed: 1)
        let u = Tensor.randomUniform([n], using: &generator)
        assertMoments(u, mean: 0.5, variance: 1.0 / 12, fourthCentral: 1.0 / 80)
        XCTAssertTrue(u.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    func testNormalMoments() {
        var generator = RandomGenerator(seed: 2)
        assertMoments(Tensor.randomNormal([n], using: &generator), mean: 0, variance: 1, fourthCentral: 3)
    }

    func testBernoulliMoments() {
        var generator = RandomGenerator(seed: 3)
        let p = 0.3
        let draws = Tensor.randomBernoulli(probabilities: Tensor.full([n], Float(p)), using: &generator)
        assertMoments(draws, mean: p, variance: p * (1 - p), fourthCentral: p * (1 - p) * (1 - 3 * p * (1 - p)))
    }

    func testCategoricalFrequencies() {
        var generator = RandomGenerator(seed: 4)
        let probabilities: [Double] = [0.2, 0.5, 0.3]
        let draws = Tensor.randomCategorical(probabilities: Tensor(probabilities.map(Float.init)).expanded(to: [n, 3]), using: &generator).scalars
        for (k, p) in probabilities.enumerated() {
            let frequency = Double(draws.filter { $0 == Float(k) }.count) / Double(n)
            XCTAssertEqual(frequency, p, accuracy: 4 * (p * (1 - p) / Double(n)).squareRoot(), "category \(k)")
        }
    }

    func testCategoricalFromLogitsMatchesSoftmax() {
        var generator = RandomGenerator(seed: 5)
        let logits = Tensor([0, 50, -50]).expanded(to: [1000, 3])
        XCTAssertTrue(Tensor.randomCategorical(logits: logits, using: &generator).scalars.allSatisfy { $0 == 1 })
    }

    func testGammaMoments() {
        // Gamma(alpha, 1): mean alpha, variance alpha, fourth central moment 3 alpha^2 + 6 alpha.
        for (seed, alpha) in [(6, 0.3), (7, 1.0), (8, 4.5)] as [(UInt64, Double)] {
            var generator = RandomGenerator(seed: seed)
            let draws = Tensor.randomGamma(concentration: Tensor.full([n], Float(alpha)), using: &generator)
            XCTAssertTrue(draws.scalars.allSatisfy { $0 >= 0 }, "alpha \(alpha)")
            assertMoments(draws, mean: alpha, variance: alpha, fourthCentral: 3 * alpha * alpha + 6 * alpha)
        }
    }

    func testGammaWithNonpositiveConcentrationIsNaN() {
        var generator = RandomGenerator(seed: 9)
        XCTAssertTrue(Tensor.randomGamma(concentration: Tensor([-1, 0]), using: &generator).scalars.allSatisfy(\.isNaN))
    }

    func testSameSeedSameNumbers() {
        var first = RandomGenerator(seed: 42), second = RandomGenerator(seed: 42), other = RandomGenerator(seed: 43)
        let a = Tensor.randomNormal([100], using: &first), b = Tensor.randomNormal([100], using: &second)
        XCTAssertEqual(a.scalars, b.scalars)
        XCTAssertNotEqual(a.scalars, Tensor.randomNormal([100], using: &other).scalars)
        XCTAssertNotEqual(a.scalars, Tensor.randomNormal([100], using: &first).scalars, "a second draw continues the sequence")
    }

    func testNumbersDoNotDependOnThreadCount() {
        defer { ComputeThreads.count = 2 }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            ComputeThreads.count = threads
            var generator = RandomGenerator(seed: 11)
            let normal = Tensor.randomNormal([100_000], using: &generator)
            let gamma = Tensor.randomGamma(concentration: Tensor.full([100_000], 0.7), using: &generator)
            results.append(normal.scalars + gamma.scalars)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    /// Random123's known-answer vectors for Philox4x32-10 (counter words, then key words).
    func testPhiloxKnownAnswers() {
        let zero = Philox.block(key: 0, stream: 0, counter: 0)
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
        let ones = Philox.block(key: .max, stream: .max, counter: .max)
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD])
        let pi = Philox.block(key: 0x299F_31D0_A409_3822, stream: 0x0370_7344_1319_8A2E, counter: 0x85A3_08D3_243F_6A88)
        XCTAssertEqual([pi.0, pi.1, pi.2, pi.3], [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1])
    }

    /// The bulk kernels give every element the number `Philox.block` gives it one at a time:
    /// uniform element e is word e % 4 of block e / 4, normal element e Box-Muller on words
    /// (0, 1) or (2, 3) of block e / 2; also for a process's share of a minibatch.
    func testBulkDrawsMatchOneBlockAtATime() {
        let uniformByElement: (_ block: (UInt64) -> (UInt32, UInt32, UInt32, UInt32), Int, Int) -> Float = { block, e, _ in
            let w = block(UInt64(e / 4))
            return Philox.openUnit([w.0, w.1, w.2, w.3][e % 4])
        }
        let normalByElement: (_ block: (UInt64) -> (UInt32, UInt32, UInt32, UInt32), Int, Int) -> Float = { block, e, _ in
            let w = block(UInt64(e / 2))
            return e % 2 == 0 ? Tensor.standardNormal(w.0, w.1) : Tensor.standardNormal(w.2, w.3)
        }
        for (shape, share) in [([70_001], nil), ([3, 7], nil), ([2, 5, 3], RowShare(offset: 3, count: 5, total: 12, axis: 1)),
                               ([40_000, 3], RowShare(offset: 1, count: 40_000, total: 40_003, axis: 0))] as [([Int], RowShare?)] {
            for threads in [1, 2] {
                ComputeThreads.count = threads
                defer { ComputeThreads.count = 2 }
                var bulk = RandomGenerator(seed: 9), single = RandomGenerator(seed: 9)
                bulk.rowShare = share
                single.rowShare = share
                _ = bulk.next(); _ = single.next()
                XCTAssertEqual(Tensor.randomUniform(shape, using: &bulk).scalars, Tensor.drawing(shape, &single, uniformByElement).scalars, "uniform \(shape)")
                XCTAssertEqual(Tensor.randomNormal(shape, using: &bulk).scalars, Tensor.drawing(shape, &single, normalByElement).scalars, "normal \(shape)")
            }
        }
    }

    /// ((bits >> 8) + 1/2) 2^-24 rounds up to 1 in float for the largest 24 bits; it is kept at
    /// the float below 1, the one value no other bits give, and a long draw reaches it.
    func testUniformDrawsStayStrictlyInsideTheUnitInterval() {
        XCTAssertEqual(Philox.openUnit(.max), 0x1.fffffep-1)
        XCTAssertEqual(Philox.openUnit(0), 0x1p-25)
        var generator = RandomGenerator(seed: 1)
        var largest: Float = 0
        for _ in 0..<16 { largest = Swift.max(largest, Tensor.randomUniform([1 << 20], using: &generator).scalars.max()!) }
        XCTAssertEqual(largest, 0x1.fffffep-1, "2^24 draws reach the top 24 bits")
    }

    /// Box-Muller's log and cos, written for vector lanes, round to the same floats as the
    /// libm functions in double, here on 2^20 word pairs and on the edges of both words (u2 at
    /// the quadrants' ends, u1 at its smallest and largest).
    func testNormalDrawsMatchBoxMullerInDouble() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: state >> 32)
        }
        var pairs = (0..<(1 << 20)).map { _ in (next(), next()) }
        let edges: [UInt32] = [0, 1, 255, 256, 0x3FFF_FF00, 0x4000_0000, 0x7FFF_FFFF, 0x8000_0000, 0xBFFF_FF00, 0xC000_0000, 0xFFFF_FF00, .max]
        pairs += edges.flatMap { a in edges.map { (a, $0) } }
        var differing = 0
        for (w1, w2) in pairs {
            let radius = (-2 * Foundation.log((Double(w1) + 0.5) * 0x1p-32)).squareRoot()
            let expected = Float(radius * Foundation.cos(2 * Double.pi * Double(Philox.openUnit(w2))))
            let drawn = Tensor.standardNormal(w1, w2)
            guard drawn != expected else { continue }
            differing += 1
            XCTAssertEqual(drawn, expected, accuracy: expected.ulp, "words \(w1), \(w2)")
        }
        XCTAssertLessThanOrEqual(differing, 2, "draws that differ from libm's by one float ulp")
    }

    func testGlobalSeedIsReproducible() {
        setRandomSeed(3)
        let a = Tensor.randomNormal([10])
        setRandomSeed(3)
        XCTAssertEqual(a.scalars, Tensor.randomNormal([10]).scalars)
    }
}

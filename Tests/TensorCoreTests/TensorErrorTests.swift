import Foundation
import TensorCore
import XCTest

/// Shape and index mistakes in model code become thrown errors naming the operation and the
/// shapes, never a crash.
final class TensorErrorTests: XCTestCase {
    /// A NaN or an infinity anywhere in a large tensor is found, whichever thread's chunk holds it.
    func testIsFiniteFindsEveryNonFiniteElement() {
        defer { ComputeThreads.count = 2 }
        let n = 100_003
        for threads in [1, 2, 3] {
            ComputeThreads.count = threads
            XCTAssertTrue(Tensor.zeros([n]).isFinite)
            for (place, bad) in [(0, Float.nan), (n / 2, .infinity), (n - 1, -.infinity), (n - 1, .nan)] {
                var values = [Float](repeating: 1, count: n)
                values[place] = bad
                XCTAssertFalse(Tensor(values).isFinite, "\(bad) at \(place) with \(threads) threads")
            }
        }
    }

    /// The first NaN or infinity is named with its row; finite data give nil.
    func testFirstNonFiniteValueNamesItsRow() {
        XCTAssertEqual(Tensor([[1, 2], [3, .nan], [.infinity, 0]]).firstNonFiniteValue, "nan at row 1")
        XCTAssertEqual(Tensor([[1, 2], [3, 4], [-.infinity, 0]]).firstNonFiniteValue, "-inf at row 2")
        XCTAssertNil(Tensor([[1, 2], [3, .greatestFiniteMagnitude]]).firstNonFiniteValue)
    }

    /// The vectorized range check finds the same first element as the scalar rule, for the edge
    /// values of floats, in the vector tail and on either side of its 1024-element blocks.
    func testFirstIndexOutsideARangeMatchesTheScalarRule() {
        let values: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, 0.5, 2.5, 3, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e30]
        let ranges: [(Float, Float, Bool)] = [(-.infinity, .infinity, false), (-.infinity, .greatestFiniteMagnitude, false), (.leastNonzeroMagnitude, .infinity, false),
                                              (0, .infinity, false), (0, 1, false), (0, 1, true), (0, Float(3).nextDown, true), (0, .greatestFiniteMagnitude, true)]
        for (lower, upper, integral) in ranges {
            let outside = { (x: Float) in !(x >= lower && x <= upper && (!integral || x == x.rounded(.down))) }
            for n in [1, 7, 8, 9, 1023, 1024, 1025, 3000] {
                XCTAssertNil(Tensor([Float](repeating: 1, count: n)).firstIndex(outside: lower, upper, integral: integral))
                for place in Set([0, n / 2, n - 1]) {
                    for value in values {
                        var elements = [Float](repeating: 1, count: n)
                        elements[place] = value
                        let expected = elements.firstIndex(where: outside)
                        XCTAssertEqual(Tensor(elements).firstIndex(outside: lower, upper, integral: integral), expected, "\(value) at \(place) of \(n) in [\(lower), \(upper)] integral \(integral)")
                    }
                }
            }
        }
    }

    func assertThrows(_ expected: String, _ body: () -> Tensor, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try checkingTensorErrors { _ = body() }, file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testMessagesNameTheOperationAndShapes() {
        let a = Tensor.zeros([128, 784]), b = Tensor.zeros([400, 784])
        assertThrows("matmul: cannot multiply [128, 784] by [400, 784]: inner dimensions 784 and 400 differ") { matmul(a, b) }
        assertThrows("add: shapes [2, 3] and [4] do not broadcast") { Tensor.zeros([2, 3]) + Tensor.zeros([4]) }
        assertThrows("reshape: cannot reshape [2, 3] (6 elements) to [4, -1]") { Tensor.zeros([2, 3]).reshaped(to: [4, -1]) }
        assertThrows("gather: index 3.0 at position 1 of indices [2] is not an integer in 0..<3 (axis 0 of [3, 2])") { Tensor.zeros([3, 2])[Tensor([0, 3])] }
        assertThrows("gather: index 0.5 at position 0 of indices [1] is not an integer in 0..<3 (axis 0 of [3, 2])") { Tensor.zeros([3, 2])[Tensor([0.5])] }
        assertThrows("slice: range 2..<5 is out of bounds for axis 1 of [2, 3]") { Tensor.zeros([2, 3]).slice(axis: 1, 2..<5) }
        assertThrows("sum: axis 2 is out of range for shape [2, 3]") { Tensor.zeros([2, 3]).sum(axis: 2) }
        assertThrows("Tensor(shape:scalars:): shape [2, 2] needs 4 scalars, got 3") { Tensor(shape: [2, 2], scalars: [1, 2, 3]) }
        assertThrows("concatenate: shapes [2, 3], [2, 4] differ outside axis 0") { Tensor.concatenate([Tensor.zeros([2, 3]), Tensor.zeros([2, 4])]) }
        assertThrows("expand: cannot expand [3] to [2, 4]") { Tensor.zeros([3]).expanded(to: [2, 4]) }
    }

    /// Shapes no tensor can have (negative dimensions, more elements than memory or an `Int`
    /// counts) are errors before anything is allocated, not traps.
    func testImpossibleShapesAreErrorsNotTraps() {
        assertThrows("expand: cannot expand [] to [-1]") { Tensor(1).expanded(to: [-1]) }
        assertThrows("expand: cannot expand [3] to [-3]") { Tensor.zeros([3]).expanded(to: [-3]) }
        assertThrows("full: shape [1099511627776, 1099511627776] has a negative dimension or more elements than this machine has memory for") { Tensor.zeros([1 << 40, 1 << 40]) }
        assertThrows("full: shape [4611686018427387904, 4] has a negative dimension or more elements than this machine has memory for") { Tensor.ones([1 << 62, 4]) }
        assertThrows("reshape: cannot reshape [2, 3] (6 elements) to [4611686018427387904, 4]") { Tensor.zeros([2, 3]).reshaped(to: [1 << 62, 4]) }
        assertThrows("allocate: shape [4294967296, 4294967296] has a negative dimension or more elements than this machine has memory for") {
            var generator = RandomGenerator(seed: 0)
            return Tensor.randomNormal([1 << 32, 1 << 32], using: &generator)
        }
        assertThrows("allocate: shape [2097152, 2097152] has a negative dimension or more elements than this machine has memory for") {
            Tensor.zeros([1 << 21, 1]) + Tensor.zeros([1, 1 << 21])
        }
    }

    /// Tensors that fit one by one but not together: the one that would pass the machine's
    /// memory is an error naming its shape, and fits again once the others are freed (a limit
    /// of 1 million floats stands in for the machine).
    func testTensorsAliveTogetherMayNotPassTheMachinesMemory() throws {
        let limit = TensorMemory.limit
        defer { TensorMemory.limit = limit }
        TensorMemory.limit = 1_000_000
        var held: Tensor? = Tensor.zeros([600, 1000])
        assertThrows("full: shape [600, 1000] needs 0.0024 GB beside the 0.0024 GB the tensors alive already hold, more than the 0.004 GB of memory this process may use; fewer rows per minibatch or fewer samples per row need less") {
            Tensor.zeros([600, 1000])
        }
        assertThrows("allocate: shape [600, 1000] needs 0.0024 GB beside the 0.0024 GB the tensors alive already hold, more than the 0.004 GB of memory this process may use; fewer rows per minibatch or fewer samples per row need less") {
            held! * 2
        }
        XCTAssertEqual(held?.shape, [600, 1000])
        held = nil
        XCTAssertNoThrow(try checkingTensorErrors { _ = Tensor.zeros([400, 1000]) * 2 })
    }

    /// The memory a process may use follows its own limits, not the machine's size alone: a
    /// data limit of 3 GB (`prlimit --data`, say) leaves nine tenths of it (a run limited so
    /// was killed by the allocator instead of refused).
    func testTheMemoryBudgetFollowsTheProcessLimits() throws {
        var saved = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &saved), 0)
        defer { _ = setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &saved) }
        let unlimited = TensorMemory.usableBytes()
        XCTAssertLessThanOrEqual(unlimited, ProcessInfo.processInfo.physicalMemory / 10 * 9)
        let limit: UInt64 = 3 << 30
        try XCTSkipIf(UInt64(saved.rlim_max) < limit || unlimited < limit, "this process may not use 3 GB")
        var lowered = saved
        lowered.rlim_cur = rlim_t(limit)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &lowered), 0)
        XCTAssertEqual(TensorMemory.usableBytes(), limit / 10 * 9)
    }

    func testFailedOperationGivesNaNOfThePlausibleShapeSoLaterCodeRuns() throws {
        var shape: [Int] = []
        XCTAssertThrowsError(try checkingTensorErrors {
            let product = matmul(Tensor.zeros([5, 3]), Tensor.zeros([4, 2]))
            shape = product.shape
            _ = product.sum(axis: 1) + Tensor.ones([5])
        })
        XCTAssertEqual(shape, [5, 2])
    }

    func testFirstErrorIsReported() {
        assertThrows("multiply: shapes [2] and [3] do not broadcast") {
            let bad = Tensor.zeros([2]) * Tensor.zeros([3])
            return matmul(bad, Tensor.zeros([7, 7]))
        }
    }

    func testGradientEntryPointThrows() {
        XCTAssertThrowsError(try valueWithGradient(at: [Tensor.zeros([2, 3])]) { matmul($0[0], $0[0]).sum() }) { error in
            XCTAssertEqual((error as? TensorError)?.operation, "matmul")
        }
    }

    func testNestedScopesReportTheirOwnErrors() throws {
        let outer = try checkingTensorErrors { () -> Bool in
            let innerThrew = (try? checkingTensorErrors { _ = Tensor.zeros([2]) + Tensor.zeros([3]) }) == nil
            return innerThrew
        }
        XCTAssertTrue(outer)
    }
}

import Foundation
import TensorCore
import TestSupport
import XCTest

/// Every differentiable operation against its Double reference and central finite
/// differences. Tolerances: Float32 values carry relative error ~1e-7 per operation and the
/// finite differences ~1e-9, so 1e-4 relative to `1 + |reference|` leaves room for
/// accumulated rounding yet fails on any wrong derivative.
final class GradientTests: XCTestCase {
    let tolerance = 1e-4

    func uniform(_ shape: [Int], _ low: Float, _ high: Float, seed: UInt64 = 1) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform(shape, using: &generator) * (high - low) + low
    }

    func assertGradients(
        _ inputs: [Tensor], tolerance: Double? = nil,
        _ operation: ([Tensor]) -> Tensor, _ reference: ([DoubleTensor]) -> DoubleTensor,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let check = try GradientCheck.run(inputs, operation: operation, reference: reference)
        let bound = tolerance ?? self.tolerance
        XCTAssertLessThan(check.valueError, bound, "values: \(check)", file: file, line: line)
        XCTAssertLessThan(check.gradientError, bound, "gradients: \(check)", file: file, line: line)
    }

    func assertUnary(_ low: Float, _ high: Float, tolerance: Double? = nil, _ f: (Tensor) -> Tensor, _ reference: @escaping (Double) -> Double, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertGradients([uniform([3, 5], low, high)], tolerance: tolerance, { f($0[0]) }, { $0[0].map(reference) }, file: file, line: line)
    }

    func testUnaryFunctions() throws {
        try assertUnary(-3, 3, { -$0 }) { -$0 }
        try assertUnary(-5, 5, exp) { Foundation.exp($0) }
        try assertUnary(0.1, 5, log) { Foundation.log($0) }
        try assertUnary(-0.9, 5, log1p) { Foundation.log1p($0) }
        try assertUnary(-3, 3, expm1) { Foundation.expm1($0) }
        try assertUnary(0.1, 5, sqrt) { $0.squareRoot() }
        try assertUnary(-3, 3, square) { $0 * $0 }
        try assertUnary(-3, 3, abs) { Swift.abs($0) }
        try assertUnary(-4, 4, tanh) { Foundation.tanh($0) }
        try assertUnary(-8, 8, sigmoid) { 1 / (1 + Foundation.exp(-$0)) }
        try assertUnary(-8, 8, softplus) { Foundation.log1p(Foundation.exp($0)) }
        try assertUnary(-8, 8, logSigmoid) { -Foundation.log1p(Foundation.exp(-$0)) }
        try assertUnary(-3, 3, relu) { Swift.max($0, 0) }
        try assertUnary(-3, 3, { leakyRelu($0, slope: 0.2) }) { $0 > 0 ? $0 : 0.2 * $0 }
        try assertUnary(-3, 3, { elu($0, alpha: 1.5) }) { $0 > 0 ? $0 : 1.5 * Foundation.expm1($0) }
        try assertUnary(0.2, 8, lgamma) { Foundation.lgamma($0) }
        try assertUnary(0.3, 8, { pow($0, Float(2.5)) }) { Foundation.pow($0, 2.5) }
        try assertUnary(-2, 2, { clamp($0, min: -1, max: 0.5) }) { Swift.min(Swift.max($0, -1), 0.5) }
    }

    /// ReLU on a tensor large enough to be split across threads, exactly: max(x, 0) forward and
    /// g * (x > 0 ? 1 : 0) backward, so a NaN upstream gradient stays NaN even where x <= 0.
    func testReLUOnLargeTensorsIsExact() {
        let count = 300 * 300
        let x = uniform([300, 300], -1, 1) * Tensor((0..<count).map { Float($0 % 7 == 0 ? 0 : 1) }).reshaped(to: [300, 300])
        let xs = x.scalars
        var upstream = uniform([300, 300], -2, 2, seed: 2).scalars
        let inactive = xs.firstIndex { $0 < 0 }!
        upstream[inactive] = .nan
        let tape = GradientTape()
        let watched = tape.watch(x)
        let y = tape.record { relu(watched) }
        let gradient = tape.gradient(of: tape.record { (y * Tensor(upstream).reshaped(to: [300, 300])).sum() }, withRespectTo: [watched])[0].scalars
        XCTAssertEqual(y.scalars, xs.map { $0 > 0 ? $0 : 0 })
        let wrong = (0..<count).filter { $0 != inactive && gradient[$0].bitPattern != (upstream[$0] * (xs[$0] > 0 ? 1 : 0)).bitPattern }
        XCTAssertEqual(wrong, [])
        XCTAssertTrue(gradient[inactive].isNaN)
    }

    func testFusedBernoulliLogLikelihood() throws {
        var generator = RandomGenerator(seed: 12)
        let values = Tensor.randomBernoulli(probabilities: Tensor.full([4, 5], 0.5), using: &generator)
        try assertGradients([uniform([4, 5], -8, 8), values], { bernoulliLogLikelihood(logits: $0[0], values: $0[1]) }) { inputs in
            DoubleTensor.zip(inputs[0], inputs[1]) { l, x in x * l - (l > 0 ? l + Foundation.log1p(Foundation.exp(-l)) : Foundation.log1p(Foundation.exp(l))) }
        }
        let tails = bernoulliLogLikelihood(logits: Tensor([50, -50, 50, -50, 0]), values: Tensor([1, 1, 0, 0, 1])).scalars
        let tiny = -Foundation.log1p(Foundation.exp(-50.0))
        for (ours, exact) in zip(tails, [tiny, -50 + tiny, -50 + tiny, tiny, -Foundation.log(2.0)]) {
            XCTAssertEqual(Double(ours), exact, accuracy: 1e-7 * Swift.abs(exact) + 1e-21)
        }
    }

    /// Summed over trailing axes without writing the terms out, the Bernoulli log-likelihood is
    /// the sum of the terms bit for bit (rows of 16s, a tail, fewer than 16 columns, two axes,
    /// rows split over threads), and so are both gradients; values that broadcast sum the
    /// broadcast terms; the gradient in the logits also against finite differences in Double.
    func testBernoulliLogLikelihoodSummedOverTrailingAxes() throws {
        var generator = RandomGenerator(seed: 13)
        for (shape, axes) in [([3, 37], 1), ([4, 7], 1), ([2, 3, 20], 2), ([300, 784], 1), ([130, 515], 1)] {
            let logits = Tensor.randomUniform(shape, using: &generator) * 16 - 8
            let values = Tensor.randomBernoulli(probabilities: Tensor.full(shape, 0.3), using: &generator)
            let summed = Array((shape.count - axes)..<shape.count)
            let weights = Tensor.randomUniform(Array(shape.dropLast(axes)), using: &generator)
            func run(_ body: (Tensor, Tensor) -> Tensor) -> [[UInt32]] {
                let tape = GradientTape()
                let (l, x) = (tape.watch(logits), tape.watch(values))
                let y = tape.record { body(l, x) }
                let gradients = tape.gradient(of: tape.record { (y * weights).sum() }, withRespectTo: [l, x])
                return [y.scalars.map(\.bitPattern)] + gradients.map { $0.scalars.map(\.bitPattern) }
            }
            let fused = run { bernoulliLogLikelihood(logits: $0, values: $1, summingLast: axes) }
            let composed = run { bernoulliLogLikelihood(logits: $0, values: $1).sum(axes: summed) }
            XCTAssertEqual(fused[0], composed[0], "\(shape): values")
            XCTAssertEqual(fused[1], composed[1], "\(shape): gradient in the logits")
            XCTAssertEqual(fused[2], composed[2], "\(shape): gradient in the values")
        }
        // Values that broadcast against the logits (enumerated ones) sum the broadcast terms.
        let logits = Tensor.randomUniform([2, 3], using: &generator) * 4 - 2
        let support = Tensor(shape: [4, 1, 3], scalars: [0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1])
        XCTAssertEqual(bernoulliLogLikelihood(logits: logits, values: support, summingLast: 1).scalars,
                       bernoulliLogLikelihood(logits: logits, values: support).sum(axes: [2]).scalars)
        let values = Tensor.randomBernoulli(probabilities: Tensor.full([3, 37], 0.5), using: &generator)
        try assertGradients([uniform([3, 37], -8, 8)], { bernoulliLogLikelihood(logits: $0[0], values: values, summingLast: 1) }) { inputs in
            let terms = DoubleTensor.zip(inputs[0], DoubleTensor(values)) { l, x in x * l - (l > 0 ? l + Foundation.log1p(Foundation.exp(-l)) : Foundation.log1p(Foundation.exp(l))) }
            return DoubleTensor(shape: [3], values: (0..<3).map { row in terms.values[(row * 37)..<(row * 37 + 37)].reduce(0, +) })
        }
    }

    func testDigammaAndTrigammaMatchReferenceValues() throws {
        // Reference values from scipy.special.psi and polygamma(1, x).
        let x = Tensor([0.1, 0.5, 1, 2.5, 10, -0.5])
        let psi: [Double] = [-10.423754940411076, -1.9635100260214235, -0.5772156649015329, 0.7031566406452432, 2.251752589066721, 0.03648997397857652]
        let psi1: [Double] = [101.43329915079276, 4.934802200544679, 1.6449340668482264, 0.4903577561002349, 0.10516633568168575, 8.934802200544679]
        for (ours, expected) in zip(digamma(x).scalars, psi) { XCTAssertEqual(Double(ours), expected, accuracy: 2e-6 * (1 + Swift.abs(expected))) }
        for (ours, expected) in zip(trigamma(x).scalars, psi1) { XCTAssertEqual(Double(ours), expected, accuracy: 2e-6 * (1 + Swift.abs(expected))) }
    }

    func testDigammaGradientIsTrigamma() throws {
        let x = uniform([4], 0.5, 6)
        let (_, gradients) = try valueWithGradient(at: [x]) { digamma($0[0]).sum() }
        let h = 1e-4
        for (i, value) in x.scalars.enumerated() {
            let v = Double(value)
            let numeric = (Self.psi(v + h) - Self.psi(v - h)) / (2 * h)
            XCTAssertEqual(Double(gradients[0].scalars[i]), numeric, accuracy: 1e-4 * (1 + numeric))
        }
    }

    /// Digamma by a 40-term recurrence and an asymptotic series: independent of the library's.
    static func psi(_ x: Double) -> Double {
        var x = x, shift = 0.0
        while x < 40 { shift -= 1 / x; x += 1 }
        return shift + Foundation.log(x) - 1 / (2 * x) - 1 / (12 * x * x) + 1 / (120 * Foundation.pow(x, 4))
    }

    func testBroadcastingArithmetic() throws {
        let shapes: [([Int], [Int])] = [([2, 3], [2, 3]), ([2, 3], [3]), ([2, 1, 4], [3, 1]), ([1], [2, 3]), ([], [2, 2]), ([4, 1], [1, 5])]
        for (sa, sb) in shapes {
            let a = uniform(sa, -2, 2, seed: 3), b = uniform(sb, 0.5, 2, seed: 4)
            try assertGradients([a, b], { $0[0] + $0[1] }) { DoubleTensor.zip($0[0], $0[1], +) }
            try assertGradients([a, b], { $0[0] - $0[1] }) { DoubleTensor.zip($0[0], $0[1], -) }
            try assertGradients([a, b], { $0[0] * $0[1] }) { DoubleTensor.zip($0[0], $0[1], *) }
            try assertGradients([a, b], { $0[0] / $0[1] }) { DoubleTensor.zip($0[0], $0[1], /) }
            try assertGradients([b, a], { pow($0[0], $0[1]) }) { DoubleTensor.zip($0[0], $0[1], Foundation.pow) }
            try assertGradients([a, b], { maximum($0[0], $0[1]) }) { DoubleTensor.zip($0[0], $0[1], Swift.max) }
            try assertGradients([a, b], { minimum($0[0], $0[1]) }) { DoubleTensor.zip($0[0], $0[1], Swift.min) }
        }
    }

    func testSelect() throws {
        let mask = Tensor([1, 0, 1, 0, 0, 1]).reshaped(to: [2, 3])
        try assertGradients([uniform([2, 3], -1, 1), uniform([3], -1, 1, seed: 2)], { select(mask, $0[0], $0[1]) }) { inputs in
            let m = DoubleTensor(mask)
            return DoubleTensor.zip(DoubleTensor.zip(m, inputs[0], *), DoubleTensor.zip(m.map { 1 - $0 }, inputs[1], *), +)
        }
    }

    func testReductionsOverEachAxis() throws {
        let x = uniform([2, 3, 4], -2, 2)
        let axesChoices: [[Int]] = [[0], [1], [2], [-1], [0, 2], [1, 2], [0, 1, 2]]
        for axes in axesChoices {
            let normalized = axes.map { $0 < 0 ? $0 + 3 : $0 }.sorted()
            for keepDims in [false, true] {
                try assertGradients([x], { $0[0].sum(axes: axes, keepDims: keepDims) }) { $0[0].reduce(axes: normalized, keepDims: keepDims, initial: 0, +) }
                let n = Double(normalized.reduce(1) { $0 * x.shape[$1] })
                try assertGradients([x], { $0[0].mean(axes: axes, keepDims: keepDims) }) { $0[0].reduce(axes: normalized, keepDims: keepDims, initial: 0, +).map { $0 / n } }
                try assertGradients([x], { $0[0].max(axes: axes, keepDims: keepDims) }) { $0[0].reduce(axes: normalized, keepDims: keepDims, initial: -.infinity, Swift.max) }
                try assertGradients([x], { $0[0].logSumExp(axes: axes, keepDims: keepDims) }) { Self.logSumExp($0[0], normalized, keepDims) }
            }
        }
    }

    static func logSumExp(_ x: DoubleTensor, _ axes: [Int], _ keepDims: Bool) -> DoubleTensor {
        x.map(Foundation.exp).reduce(axes: axes, keepDims: keepDims, initial: 0, +).map(Foundation.log)
    }

    func testSoftmaxAndLogSoftmax() throws {
        let x = uniform([3, 5], -4, 4)
        for axis in [0, 1] {
            try assertGradients([x], { logSoftmax($0[0], axis: axis) }) { inputs in
                DoubleTensor.zip(inputs[0], Self.logSumExp(inputs[0], [axis], true), -)
            }
            try assertGradients([x], { softmax($0[0], axis: axis) }) { inputs in
                DoubleTensor.zip(inputs[0], Self.logSumExp(inputs[0], [axis], true), -).map(Foundation.exp)
            }
        }
    }

    func testMatmulEveryTransposeCombination() throws {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = uniform(transposeA ? [4, 3] : [3, 4], -1, 1), b = uniform(transposeB ? [5, 4] : [4, 5], -1, 1, seed: 2)
                try assertGradients([a, b], { matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }) { inputs in
                    DoubleTensor.matmul(transposeA ? inputs[0].permuted([1, 0]) : inputs[0], transposeB ? inputs[1].permuted([1, 0]) : inputs[1])
                }
            }
        }
    }

    func testBatchedMatmulWithBroadcastBatch() throws {
        let a = uniform([2, 3, 4], -1, 1), b = uniform([4, 5], -1, 1, seed: 2), c = uniform([1, 4, 2], -1, 1, seed: 3)
        try assertGradients([a, b], { matmul($0[0], $0[1]) }) { DoubleTensor.matmul($0[0], $0[1].broadcast(to: [2, 4, 5])) }
        try assertGradients([a, c], { matmul($0[0], $0[1]) }) { DoubleTensor.matmul($0[0], $0[1].broadcast(to: [2, 4, 2])) }
        try assertGradients([a, a], { matmul($0[0], $0[1], transposeB: true) }) { DoubleTensor.matmul($0[0], $0[1].permuted([0, 2, 1])) }
    }

    /// `affine(x, W, b)`, the bias written before the GEMM adds the product, for a matrix and
    /// for a batch of matrices; and equal to `matmul(x, W) + b`.
    func testAffineMap() throws {
        for shape in [[3, 4], [2, 3, 4]] {
            let x = uniform(shape, -1, 1), w = uniform([4, 5], -1, 1, seed: 2), b = uniform([5], -1, 1, seed: 3)
            try assertGradients([x, w, b], { affine($0[0], $0[1], $0[2]) }) { inputs in
                let product = DoubleTensor.matmul(inputs[0], inputs[1].broadcast(to: Array(shape.dropLast()) + [4, 5]))
                return DoubleTensor.zip(product, inputs[2].broadcast(to: product.shape), +)
            }
            XCTAssertEqual(affine(x, w, b).scalars, (matmul(x, w) + b).scalars)
        }
    }

    func testShapeOperations() throws {
        let x = uniform([2, 3, 4], -1, 1)
        try assertGradients([x], { $0[0].reshaped(to: [4, -1]) }) { DoubleTensor(shape: [4, 6], values: $0[0].values) }
        try assertGradients([x], { $0[0].permuted([2, 0, 1]) }) { $0[0].permuted([2, 0, 1]) }
        try assertGradients([x], { $0[0].transposed() }) { $0[0].permuted([0, 2, 1]) }
        try assertGradients([uniform([3, 1], -1, 1)], { $0[0].expanded(to: [2, 3, 4]) }) { $0[0].broadcast(to: [2, 3, 4]) }
        for axis in 0..<3 {
            try assertGradients([x], { $0[0].slice(axis: axis, 1..<2) }) { $0[0].slice(axis: axis, 1..<2) }
        }
        let y = uniform([2, 2, 4], -1, 1, seed: 5)
        try assertGradients([x, y], { Tensor.concatenate($0, axis: 1) }) { DoubleTensor.concatenate($0, axis: 1) }
        try assertGradients([x, x], { Tensor.stack($0, axis: 1) }) { inputs in
            DoubleTensor.concatenate(inputs.map { DoubleTensor(shape: [2, 1, 3, 4], values: $0.values) }, axis: 1)
        }
        try assertGradients([x], { $0[0].unsqueezed(axis: -1) }) { DoubleTensor(shape: [2, 3, 4, 1], values: $0[0].values) }
    }

    func testGatherByIntegerTensor() throws {
        let locs = uniform([3, 2], -1, 1)
        let z = Tensor(shape: [2, 2], scalars: [2, 0, 2, 1])
        try assertGradients([locs], { $0[0][z] }) { $0[0].take([2, 0, 2, 1], indicesShape: [2, 2], axis: 0) }
        try assertGradients([locs], { $0[0].gathering(Tensor([1, 1, 0]), axis: 1) }) { $0[0].take([1, 1, 0], indicesShape: [3], axis: 1) }
    }

    func testTakeAlongTheLastAxisBroadcastsAndAddsRepeatedPicks() throws {
        let x = uniform([4, 3], -1, 1, seed: 6)
        // One pick per batch row, then picks broadcast over a leading axis with column 1 taken twice.
        for (picks, shape) in [([2, 0, 1, 2], [4]), ([1, 1, 2], [3, 1])] {
            let indices = Tensor(shape: shape, scalars: picks.map(Float.init))
            let outShape = shape == [4] ? [4] : [3, 4]
            try assertGradients([x], { $0[0].taking(alongLastAxis: indices) }) { inputs in
                DoubleTensor(shape: outShape, values: (0..<outShape.reduce(1, *)).map { position in
                    let (sample, row) = (position / 4, position % 4)
                    return inputs[0].values[row * 3 + picks[shape == [4] ? row : sample]]
                })
            }
        }
        XCTAssertThrowsError(try valueWithGradient(at: [x]) { $0[0].taking(alongLastAxis: Tensor([3])).sum() })
        XCTAssertThrowsError(try valueWithGradient(at: [x]) { $0[0].taking(alongLastAxis: Tensor([0, 1])).sum() })
    }

    func testOneHot() {
        let codes = Tensor.oneHot(Tensor([2, 0, 1]), classes: 3)
        XCTAssertEqual(codes.shape, [3, 3])
        XCTAssertEqual(codes.scalars, [0, 0, 1, 1, 0, 0, 0, 1, 0])
    }

    func testGradientOfUnusedInputIsZeroAndReusedInputAccumulates() throws {
        let x = Tensor([1, 2, 3]), y = Tensor([4, 5, 6])
        let (value, gradients) = try valueWithGradient(at: [x, y]) { ($0[0] * $0[0] + $0[0]).sum() }
        XCTAssertEqual(value.scalar, 20)
        XCTAssertEqual(gradients[0].scalars, [3, 5, 7])
        XCTAssertEqual(gradients[1].scalars, [0, 0, 0])
    }

    func testWithoutGradientRecordsNothing() throws {
        let x = Tensor([1, 2])
        let (_, gradients) = try valueWithGradient(at: [x]) { inputs in
            let constant = withoutGradient { inputs[0] * 3 }
            return (constant * inputs[0]).sum()
        }
        XCTAssertEqual(gradients[0].scalars, [3, 6])
    }

    func testDetachedValueIsConstant() throws {
        let x = Tensor([2])
        let (_, gradients) = try valueWithGradient(at: [x]) { ($0[0].detached * $0[0]).sum() }
        XCTAssertEqual(gradients[0].scalars, [2])
    }
}

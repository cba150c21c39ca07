import Foundation
import Latent
import XCTest

/// Models over several inputs per row: a conditional VAE (labels observed for every row, fed to
/// the decoder and the encoder) and Kingma et al.'s semi-supervised M2 (labels for a tenth of
/// the rows, inferred for the rest).
final class CovariateModelTests: XCTestCase {
    /// Points x = M_y + z A + noise in 4 dimensions, with y one of 3 classes and z in 2.
    static func data(rows: Int, labeledEvery: Int = 1, seed: UInt64 = 7) throws -> (table: Table, labels: [Int]) {
        var generator = RandomGenerator(seed: seed)
        let labels = Tensor.randomCategorical(probabilities: Tensor.full([rows, 3], 1.0 / 3), using: &generator)
        let means = Tensor([[2, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0]])
        let mixing = Tensor([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
        let x = means[labels] + matmul(Tensor.randomNormal([rows, 2], using: &generator), mixing) + 0.3 * Tensor.randomNormal([rows, 4], using: &generator)
        let labeled = Tensor((0..<rows).map { $0 % labeledEvery == 0 ? 1 : 0 })
        let table = try Table(["x": x, "y": labels, "labeled": labeled])
        return (table, labels.scalars.map { Int($0) })
    }

    /// The labels reach the decoder (as a one-hot input) and the encoder (as a column of the
    /// table): the conditional model explains the class, so its held-out ELBO is far above the
    /// same model given no label.
    func testConditionalVAEUsesTheLabels() throws {
        func model(usesLabels: Bool) -> Model<Table, Int> {
            Model("cvae") { (data: Table, n: Int) in
                let decoder = module("decoder", MLP([5, 16, 4], activation: .tanh))
                plate("data", size: n, subsample: data) {
                    let z = latent("z") ~ Normal(0, 1).expanded(to: [2]).independent(1)
                    let label = usesLabels ? Tensor.oneHot(data["y"], classes: 3) : Tensor.zeros([data.rowCount, 3])
                    observe("x", data["x"]) ~ Normal(decoder(Tensor.concatenate([z, label], axis: -1)), 0.3).independent(1)
                }
            }
        }
        let (train, _) = try Self.data(rows: 400)
        let (test, _) = try Self.data(rows: 200, seed: 8)
        var results: [Float] = []
        for usesLabels in [true, false] {
            var options = CompilerOptions(hiddenSizes: [32], activation: .tanh)
            options.encoderColumns = ["x", "y"]
            let vi = Amortized(model(usesLabels: usesLabels), options: options)
            XCTAssertEqual(try vi.compile(example: train, datasetSize: 400)["z"]?.parameterCount, 5 * 32 + 32 + 32 * 4 + 4, "the encoder sees x and y")
            try trainToConvergence(vi, train, steps: 1500, learningRate: 0.01, particles: 1, batchSize: 100)
            results.append(try vi.elbo(test, particles: 20) / 200)
        }
        // Two latent dimensions cannot carry which of 3 well-separated classes a point is in as
        // well as the label does: the gap is several nats per row.
        XCTAssertGreaterThan(results[0], results[1] + 1, "with labels \(results[0]), without \(results[1])")
    }

    /// M2 with labels for a tenth of the rows: the label site is observed where labeled and
    /// enumerated elsewhere; the classifier (the guide of y, fed x only) then matches the exact
    /// posterior p(y | x) of the learned model, x | y ~ N(M_y, A^T A + 0.3^2 I). The loadings A
    /// are known here: learned too, they let z explain the difference of two classes, a poor
    /// optimum of the model (not of the inference) that 30 labels do not break.
    func testSemiSupervisedM2InfersTheMissingLabels() throws {
        let m2 = Model("m2") { (data: Table, n: Int) in
            let means = param("means", initializer: { Tensor.randomNormal([3, 4], using: &$0) * 0.1 })
            let mixing = Tensor([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])
            plate("data", size: n, subsample: data) {
                let y = observe("y", data["y"], where: data["labeled"]) ~ Categorical(probs: Tensor.ones([3]) / 3)
                let z = latent("z") ~ Normal(0, 1).expanded(to: [2]).independent(1)
                observe("x", data["x"]) ~ Normal(means[y] + matmul(z, mixing), 0.3).independent(1)
            }
        }
        let (table, labels) = try Self.data(rows: 300, labeledEvery: 10)
        var options = CompilerOptions(hiddenSizes: [32], activation: .tanh)
        options.encoderColumns = ["x"]
        let vi = Amortized(m2, options: options)
        let plan = try vi.compile(example: table, datasetSize: 300)
        XCTAssertEqual(plan["y"]?.estimator, .enumerated)
        XCTAssertTrue(plan["y"]?.isPartlyObserved ?? false)
        XCTAssertEqual(plan["z"]?.inputs, ["data", "y"], "q(z | x, y), with y observed or enumerated")
        var training = TrainingOptions(epochs: 600, batchSize: 100, optimizer: .adam(learningRate: 0.02))
        training.schedule = .cosine(steps: 1800, minimum: 0.02)
        training.supervision = 30
        _ = try vi.fit(table, options: training)

        let means = vi.parameters["means"]!.scalars.map(Double.init)
        let mixing = Matrix(2, 4, [0.5, 0.5, 0, 0, 0, 0, 0.5, 0.5])
        let covariance = mixing.transposed * mixing + 0.09 * Matrix.identity(4)
        let x = table["x"].scalars.map(Double.init)
        let q = try XCTUnwrap(vi.posterior(table)["y"] as? Categorical).probs.scalars.map(Double.init)
        var kl = 0.0, correct = 0, unlabeled = 0
        for row in 0..<300 where row % 10 != 0 {
            let point = Array(x[(4 * row)..<(4 * row + 4)])
            let joint = (0..<3).map { gaussianLogDensity(point, mean: Array(means[(4 * $0)..<(4 * $0 + 4)]), covariance: covariance) }
            let total = logSumExp(joint)
            kl += (0..<3).map { k in q[3 * row + k] * Foundation.log(max(q[3 * row + k], 1e-30)) - q[3 * row + k] * (joint[k] - total) }.reduce(0, +)
            if (0..<3).max(by: { q[3 * row + $0] < q[3 * row + $1] }) == labels[row] { correct += 1 }
            unlabeled += 1
        }
        XCTAssertLessThan(kl / Double(unlabeled), 0.05, "mean KL(q(y | x) || p(y | x)) over the unlabeled rows")
        XCTAssertGreaterThan(Double(correct) / Double(unlabeled), 0.95, "the inferred labels of the unlabeled rows")
        var labeledCorrect = 0
        for row in stride(from: 0, to: 300, by: 10) where (0..<3).max(by: { q[3 * row + $0] < q[3 * row + $1] }) == labels[row] { labeledCorrect += 1 }
        XCTAssertEqual(labeledCorrect, 30, "the labeled rows keep their labels")
    }
}

import Foundation
import Distributions
import NN
import PPL
import TensorCore
import XCTest

/// Writing and tracing models: the language's statements, sites and shapes, log-probabilities
/// against hand-computed values, parameters and modules.
final class ModelTests: XCTestCase {
    let normalConstant = 0.5 * Foundation.log(2 * Double.pi)

    func testTraceRecordsSitesInOrderWithShapesAndLogProbabilities() throws {
        let model = Model("regression") { (x: Tensor, y: Tensor) in
            let slope = latent("slope") ~ Normal(0, 1)
            plate("data", size: x.shape[0]) {
                observe("y", y) ~ Normal(slope * x, 0.5)
            }
        }
        let x = Tensor([1, 2, 3]), y = Tensor([0.5, 1.5, 2])
        let trace = try model.trace(x, y, seed: 1)
        XCTAssertEqual(trace.names, ["slope", "y"])
        let slope = Double(try XCTUnwrap(trace["slope"]).value.scalar)
        XCTAssertEqual(trace["slope"]?.kind, .latent)
        XCTAssertEqual(trace["y"]?.kind, .observed)
        XCTAssertEqual(trace["y"]?.batchShape, [3])
        XCTAssertEqual(trace["y"]?.plates.map(\.name), ["data"])
        XCTAssertEqual(trace["y"]?.plates.first?.dim, -1)
        let expectedSlope = -0.5 * slope * slope - normalConstant
        XCTAssertEqual(Double(trace["slope"]!.logProb!.scalar), expectedSlope, accuracy: 1e-5)
        let expectedY = zip([1.0, 2, 3], [0.5, 1.5, 2]).map { x, y in -0.5 * pow((y - slope * x) / 0.5, 2) - Foundation.log(0.5) - normalConstant }
        for (ours, expected) in zip(trace["y"]!.logProb!.scalars, expectedY) { XCTAssertEqual(Double(ours), expected, accuracy: 1e-4) }
        XCTAssertEqual(Double(trace.logJoint.scalar), expectedSlope + expectedY.reduce(0, +), accuracy: 1e-4)
        XCTAssertTrue(trace["y"]!.location.description.hasSuffix("ModelTests.swift:17"), trace["y"]!.location.description)
    }

    func testLoopsConditionalsAndSubModels() throws {
        let prior = Model("prior") { (count: Int) in
            for i in 0..<count {
                latent("w\(i)") ~ Normal(0, 1)
            }
        }
        let model = Model("outer") { (useExtra: Bool) in
            prior(prefix: "layer", 2)
            if useExtra {
                latent("extra") ~ Gamma(concentration: 2, rate: 1)
            } else {
                latent("other") ~ Beta(1, 1)
            }
        }
        XCTAssertEqual(try model.trace(true).names, ["layer/w0", "layer/w1", "extra"])
        XCTAssertEqual(try model.trace(false).names, ["layer/w0", "layer/w1", "other"])
    }

    func testSameSeedSameTrace() throws {
        let model = Model("noise") { (n: Int) in
            latent("z") ~ Normal(Tensor.zeros([n]), 1)
        }
        XCTAssertEqual(try model.trace(5, seed: 3)["z"]?.value.scalars, try model.trace(5, seed: 3)["z"]?.value.scalars)
        XCTAssertNotEqual(try model.trace(5, seed: 3)["z"]?.value.scalars, try model.trace(5, seed: 4)["z"]?.value.scalars)
    }

    func testParametersAreStoredUnconstrainedAndModulesNamedByPath() throws {
        let model = Model("decoder") { (z: Tensor) in
            let scale = param("scale", Tensor([2, 3]), constraint: .positive)
            let decoder = module("decoder", MLP([2, 4, 3], activation: .tanh))
            observe("x", Tensor.zeros([z.shape[0], 3])) ~ Normal(decoder(z), scale.sum()).independent(1)
        }
        let store = ParameterStore()
        let trace = try model.trace(Tensor.zeros([5, 2]), parameters: store)
        XCTAssertEqual(store.names, ["scale", "decoder.layers.0.weight", "decoder.layers.0.bias", "decoder.layers.1.weight", "decoder.layers.1.bias"])
        XCTAssertEqual(store.unconstrained["scale"]!.scalars[0], Float(Foundation.log(2.0)), accuracy: 1e-6)
        XCTAssertEqual(store["scale"]!.scalars[1], 3, accuracy: 1e-5)
        XCTAssertEqual(store.unconstrained["decoder.layers.0.weight"]?.shape, [2, 4])
        XCTAssertEqual(trace["x"]?.eventShape, [3])
        let first = store.unconstrained["decoder.layers.1.bias"]!.scalars
        _ = try model.trace(Tensor.zeros([5, 2]), parameters: store)
        XCTAssertEqual(store.unconstrained["decoder.layers.1.bias"]!.scalars, first, "a second run reuses the stored parameters")
    }

    func testDesignSketchModelsCanBeWrittenAndTraced() throws {
        let gmm = Model("gmm") { (x: Tensor) in
            let weights = param("weights", Tensor.ones([3]) / 3, constraint: .simplex)
            let locs = param("locs", Tensor([[0, 0], [2, 2], [-2, 1]]))
            let scales = param("scales", Tensor.ones([3, 2]), constraint: .positive)
            plate("data", size: x.shape[0]) {
                let z = latent("z") ~ Categorical(probs: weights)
                observe("x", x) ~ Normal(locs[z], scales[z]).independent(1)
            }
        }
        let x = Tensor([[0.1, -0.2], [2.1, 1.8], [-1.9, 1.2], [0, 0.3]])
        let trace = try gmm.trace(x, seed: 0)
        XCTAssertEqual(trace["z"]?.value.shape, [4])
        XCTAssertEqual(trace["x"]?.batchShape, [4])
        XCTAssertEqual(trace["weights"]?.value.scalars.map { Double($0) }.reduce(0, +) ?? 0, 1, accuracy: 1e-6)

        let vae = Model("bernoulli-vae") { (x: Tensor, datasetSize: Int) in
            let decoder = module("decoder", MLP([20, 400, 784], activation: .relu))
            plate("data", size: datasetSize, subsample: x) {
                let z = latent("z") ~ Normal(0, 1).expanded(to: [20]).independent(1)
                observe("x", x) ~ Bernoulli(logits: decoder(z)).independent(1)
            }
        }
        let images = Tensor.zeros([8, 784])
        let vaeTrace = try vae.trace(images, 60_000, seed: 0)
        XCTAssertEqual(vaeTrace["z"]?.value.shape, [8, 20])
        XCTAssertEqual(vaeTrace["z"]?.eventShape, [20])
        XCTAssertEqual(vaeTrace["x"]?.logProb?.shape, [8])
        XCTAssertEqual(vaeTrace["x"]?.scale ?? 0, 7500, accuracy: 1e-3, "N/M = 60000/8")
        let predictive = try vae.samplePriorPredictive(images, 60_000, seed: 1)
        XCTAssertTrue(predictive["x"]!.value.scalars.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertFalse(predictive["x"]!.value.scalars.allSatisfy { $0 == 0 }, "prior predictive images are drawn, not the data")
    }
}

/// `logJoint` and the network layers.
final class JointAndNetworkTests: XCTestCase {
    func testLogJointOfGivenValues() throws {
        let model = Model("pair") { (x: Tensor) in
            let mu = latent("mu") ~ Normal(1, 2)
            observe("x", x) ~ Normal(mu, 1)
        }
        let value = try model.logJoint(Tensor([0.5]), values: ["mu": Tensor(0)])
        let expected = (-0.5 * 0.25 - Foundation.log(2.0)) + (-0.5 * 0.25) - Foundation.log(2 * Double.pi)
        XCTAssertEqual(Double(value.scalar), expected, accuracy: 1e-5)
        XCTAssertThrowsError(try model.logJoint(Tensor([0.5]), values: ["nu": Tensor(0)])) { error in
            XCTAssertEqual("\(error)", "model 'pair' has no site 'nu' (its sites: mu, x)")
        }
    }

    func testMLPComputesItsLayers() {
        var generator = RandomGenerator(seed: 2)
        let network = MLP([3, 4, 2], activation: .tanh).initialized(using: &generator)
        let x = Tensor([[0.5, -1, 2]])
        let first = network.layers[0], second = network.layers[1]
        let manual = matmul(tanh(matmul(x, first.weight!) + first.bias!), second.weight!) + second.bias!
        XCTAssertEqual(network(x).scalars, manual.scalars)
        XCTAssertEqual(network.parameterSlots.map(\.path), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        let bound = Float(1 / Foundation.sqrt(3.0))
        XCTAssertTrue(first.weight!.scalars.allSatisfy { Swift.abs($0) <= bound }, "PyTorch's uniform(+-1/sqrt(fan_in)) initialization")
    }

    func testUnboundLayerIsAnErrorNotACrash() {
        XCTAssertThrowsError(try checkingTensorErrors { _ = Linear(3, 2)(Tensor.zeros([1, 3])) }) { error in
            XCTAssertEqual("\(error)", "Linear(3, 2): parameters are not bound: register the layer with module(...) or call initialized()")
        }
    }
}

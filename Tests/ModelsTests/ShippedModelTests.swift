import Latent
import LatentCommandLine
import LatentModels
import Foundation
import XCTest

/// The compiler's plan for every shipped model, and the README's example of adding one.
final class ShippedModelTests: XCTestCase {
    func plan(_ model: CommandModel, _ settings: ModelSettings, rows: Int = 4) throws -> GuidePlan {
        var generator = RandomGenerator(seed: 1)
        let example = Tensor.randomUniform([rows, settings.dataSize], using: &generator).mapped { $0 > 0.5 ? 1 : 0 }
        return try Amortized(model.build(settings), options: model.compilerOptions(settings)).compile(example: example, datasetSize: 100)
    }

    func testEveryShippedModelCompiles() throws {
        let gmm = try plan(ModelCatalog.gmm, ModelSettings(dataSize: 2, values: ["components": 3]))
        XCTAssertEqual(gmm["z"]?.family, "Categorical(3)")
        XCTAssertEqual(gmm["z"]?.estimator, .enumerated)
        let bernoulli = try plan(ModelCatalog.bernoulliVAE, ModelSettings(dataSize: 784, values: ["latent-dim": 20, "hidden": 400]))
        XCTAssertEqual(bernoulli["z"]?.estimator, .analyticKL)
        XCTAssertEqual(bernoulli.parameterCount, 784 * 400 + 400 + 400 * 40 + 40)
        let gaussian = try plan(ModelCatalog.gaussianVAE, ModelSettings(dataSize: 560, values: ["latent-dim": 5, "hidden": 200]))
        XCTAssertEqual(gaussian["z"]?.estimator, .analyticKL)
        XCTAssertEqual(gaussian["z"]?.parameterCount, 560 * 200 + 200 + 200 * 10 + 10, "loc and scale of 5 coordinates")
        let burda = try plan(ModelCatalog.burdaVAE, ModelSettings(dataSize: 784, values: ["latent-dim": 50, "hidden": 200]))
        XCTAssertEqual(burda["z"]?.estimator, .analyticKL)
        XCTAssertEqual(burda.parameterCount, 784 * 200 + 200 + 200 * 200 + 200 + 200 * 100 + 100, "two tanh layers of 200, then loc and scale of 50")
        let ppca = try plan(ModelCatalog.ppca, ModelSettings(dataSize: 5, values: ["latent-dim": 2]))
        XCTAssertEqual(ppca["z"]?.parameterCount, 5 * 4 + 4, "a linear encoder")
        let pixelScale = try plan(ModelCatalog.gaussianVAEPixelScale, ModelSettings(dataSize: 560, values: ["latent-dim": 5, "hidden": 200]))
        XCTAssertEqual(pixelScale["z"]?.parameterCount, 560 * 200 + 200 + 200 * 10 + 10)
        XCTAssertEqual(ModelCatalog.all.map(\.name), ["gmm", "gaussian-vae", "gaussian-vae-pixel-scale", "bernoulli-vae", "burda-vae", "ppca"])
    }

    /// The Gaussian decoder of Kingma & Welling's appendix C.2, log N(x; g(z), sigma^2(z) I) with
    /// [mu, log sigma^2] = W2 tanh(W1 z + b1) + b2 and g = sigmoid(mu), against the same computed
    /// here in Double from the model's own parameters.
    func testTheVarianceDecoderLogDensityByHand() throws {
        let (q, h, d) = (2, 3, 4)
        let settings = ModelSettings(dataSize: d, values: ["latent-dim": q, "hidden": h])
        let model = ModelCatalog.gaussianVAE.build(settings)
        let x = Tensor([[0.1, 0.5, 0.9, 0.3], [0.7, 0.2, 0.4, 0.6]])
        let store = ParameterStore()
        let trace = try model.trace(x, 2, parameters: store, seed: 7)
        let z = try XCTUnwrap(trace["z"]?.value).scalars.map(Double.init)
        let logProb = try XCTUnwrap(trace["x"]?.distribution?.logProb(x)).scalars.map(Double.init)
        func values(_ name: String) throws -> [Double] { try XCTUnwrap(store[name]).scalars.map(Double.init) }
        let (w1, b1, w2, b2) = (try values("decoder.layers.0.weight"), try values("decoder.layers.0.bias"), try values("decoder.layers.1.weight"), try values("decoder.layers.1.bias"))
        for row in 0..<2 {
            let hidden = (0..<h).map { j in tanh((0..<q).map { z[row * q + $0] * w1[$0 * h + j] }.reduce(b1[j], +)) }
            let output = (0..<(2 * d)).map { k in (0..<h).map { hidden[$0] * w2[$0 * 2 * d + k] }.reduce(b2[k], +) }
            var expected = 0.0
            for i in 0..<d {
                let mean = 1 / (1 + exp(-output[i])), logVariance = output[d + i]
                let value = Double(x.scalars[row * d + i])
                expected += -0.5 * log(2 * Double.pi) - 0.5 * logVariance - (value - mean) * (value - mean) / (2 * exp(logVariance))
            }
            XCTAssertEqual(logProb[row], expected, accuracy: 1e-4)
        }
    }

    /// The README's "Your own models" example, verbatim.
    static let factorAnalysis = CommandModel(
        name: "factor-analysis", summary: "factor analysis", data: .points, epochs: 100, batchSize: 100, learningRate: 0.02,
        options: [ModelOption("factors", default: 2, in: 1...100, help: "latent factors")],
        build: { s in Model("factor-analysis") { (x: Tensor, n: Int) in
            let loadings = param("loadings", initializer: { Tensor.randomNormal([s["factors"], s.dataSize], using: &$0) * 0.1 })
            let mean = param("mean", Tensor.zeros([s.dataSize]))
            let noise = param("noise", Tensor.ones([s.dataSize]), constraint: .positive)
            plate("data", size: n, subsample: x) {
                let z = latent("z") ~ Normal(0, 1).expanded(to: [s["factors"]]).independent(1)
                observe("x", x) ~ Normal(matmul(z, loadings) + mean, noise).independent(1)
            }
        } },
        compilerOptions: { _ in CompilerOptions(hiddenSizes: [64]) })

    /// Data from x = z (1, 2, -1) + (3, -2, 0.5) + noise (0.3, 0.5, 0.4): the model reaches, on
    /// 100 held-out rows, an ELBO within 0.1 nats per row of their exact log-likelihood under the
    /// generating parameters (a one-factor Gaussian: its own posterior is in the guide's family).
    func testTheReadmeExampleReachesTheGeneratingModelsLikelihood() throws {
        let settings = ModelSettings(dataSize: 3, values: ["factors": 1])
        var generator = RandomGenerator(seed: 2)
        let loadings = [1.0, 2, -1], offset = [3.0, -2, 0.5], noise = [0.3, 0.5, 0.4]
        let x = matmul(Tensor.randomNormal([500, 1], using: &generator), Tensor([loadings.map(Float.init)])) + Tensor(offset.map(Float.init))
            + Tensor(noise.map(Float.init)) * Tensor.randomNormal([500, 3], using: &generator)
        let (train, heldOut) = (x.slice(axis: 0, 0..<400), x.slice(axis: 0, 400..<500))
        let model = Self.factorAnalysis
        let vi = Amortized(model.build(settings), options: model.compilerOptions(settings))
        var options = TrainingOptions(epochs: 300, batchSize: 100, optimizer: .adam(learningRate: 0.02))
        options.schedule = .cosine(steps: 1200, minimum: 0.05)
        _ = try vi.fit(train, options: options)
        let elbo = Double(try vi.elbo(heldOut, particles: 200)) / 100
        // log N(x; offset, w w^T + diag(noise^2)) by the matrix determinant lemma.
        let d = noise.map { $0 * $0 }
        let quadraticWeight = 1 + zip(loadings, d).map { $0 * $0 / $1 }.reduce(0, +)
        let logDeterminant = d.map { Foundation.log($0) }.reduce(0, +) + Foundation.log(quadraticWeight)
        var exact = 0.0
        for row in 0..<100 {
            let centered = (0..<3).map { Double(heldOut.scalars[3 * row + $0]) - offset[$0] }
            let scaled = zip(centered, d).map { $0 / $1 }
            let projection = zip(scaled, loadings).map(*).reduce(0, +)
            let quadratic = zip(centered, scaled).map(*).reduce(0, +) - projection * projection / quadraticWeight
            exact += -0.5 * (quadratic + logDeterminant + 3 * Foundation.log(2 * Double.pi))
        }
        XCTAssertEqual(elbo, exact / 100, accuracy: 0.1, "held-out ELBO per row against the generating model's log-likelihood")
    }
}

/// The shipped mixture on data in raw, unequal units (like Old Faithful: eruptions of 2 to 5
/// minutes, waits of 45 to 95): the fit reaches EM's maximum without anyone rescaling.
final class UnscaledMixtureTests: XCTestCase {
    /// 272 points: 35% around (2.0 min, 54.5 min), 65% around (4.3, 80), spreads (0.3, 6).
    func faithfulLike() -> Tensor {
        var generator = RandomGenerator(seed: 3)
        let short = Tensor.randomBernoulli(probabilities: Tensor.full([272, 1], 0.35), using: &generator)
        let centers = short * Tensor([[2.0, 54.5]]) + (1 - short) * Tensor([[4.3, 80]])
        let spreads = short * Tensor([[0.27, 5.9]]) + (1 - short) * Tensor([[0.41, 5.9]])
        return centers + spreads * Tensor.randomNormal([272, 2], using: &generator)
    }

    func testMixtureOnUnscaledColumnsReachesEMsMaximum() throws {
        let x = faithfulLike()
        let settings = ModelSettings(dataSize: 2, values: ["components": 2])
        let vi = Amortized(ModelCatalog.gmm.build(settings), options: ModelCatalog.gmm.compilerOptions(settings))
        _ = try vi.compile(example: x, datasetSize: 272)
        let start = vi.parameters["locs"]!
        _ = try vi.fit(x, options: TrainingOptions(epochs: 1500, batchSize: 272, optimizer: .adam(learningRate: 0.01)))
        let learned = try vi.model.logMarginalLikelihood(x, 272, parameters: vi.parameters).scalar / 272
        let em = GaussianMixtureEM.bestOfStarts(x, locs: start)
        // Within 0.005 nats per point of EM (it was 1.3 nats below, with both components on one cluster).
        XCTAssertEqual(learned, em.logLikelihood, accuracy: 0.005)
        let comparison = try vi.compareWithExactPosterior(x, site: "z")
        XCTAssertLessThan(comparison.meanKL, 0.005)
    }
}

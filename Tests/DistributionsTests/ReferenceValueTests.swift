import Distributions
import TensorCore
import XCTest

/// `logProb`, mean, variance and entropy of every family against scipy's values for the same
/// float32 parameters and points (`ReferenceValues.swift`, made by `Reference/make_reference.py`).
/// Float32 evaluation of these formulas carries a relative error of a few 1e-7 of the largest
/// term (for example `k log r` against `log k!` for Poisson counts near 250), so each value must
/// agree within 3e-5 (1 + |reference|).
final class ReferenceValueTests: XCTestCase {
    func make(_ reference: ReferenceCase) -> any Distribution {
        let batch = reference.batchShape
        let batchCount = batch.reduce(1, *)
        func parameter(_ name: String) -> Tensor {
            let values = reference.parameters[name]!.map(Float.init)
            let extra = values.count / batchCount
            let shape: [Int]
            if extra == 1 {
                shape = batch
            } else if reference.distribution == "MultivariateNormal", name == "scaleTril" {
                let d = Int(Double(extra).squareRoot())
                shape = batch + [d, d]
            } else {
                shape = batch + [extra]
            }
            return Tensor(shape: shape, scalars: values)
        }
        switch reference.distribution {
        case "Normal": return Normal(parameter("loc"), parameter("scale"))
        case "LogNormal": return LogNormal(parameter("loc"), parameter("scale"))
        case "HalfNormal": return HalfNormal(parameter("scale"))
        case "BernoulliProbs": return Bernoulli(probs: parameter("probs"))
        case "BernoulliLogits": return Bernoulli(logits: parameter("logits"))
        case "CategoricalProbs": return Categorical(probs: parameter("probs"))
        case "CategoricalLogits": return Categorical(logits: parameter("logits"))
        case "OneHotCategoricalProbs": return OneHotCategorical(probs: parameter("probs"))
        case "Beta": return Beta(parameter("concentration1"), parameter("concentration0"))
        case "Gamma": return Gamma(concentration: parameter("concentration"), rate: parameter("rate"))
        case "Dirichlet": return Dirichlet(parameter("concentration"))
        case "Exponential": return Exponential(rate: parameter("rate"))
        case "Uniform": return Uniform(parameter("low"), parameter("high"))
        case "Laplace": return Laplace(parameter("loc"), parameter("scale"))
        case "StudentT": return StudentT(df: parameter("df"), loc: parameter("loc"), scale: parameter("scale"))
        case "Poisson": return Poisson(rate: parameter("rate"))
        case "MultivariateNormal": return MultivariateNormal(loc: parameter("loc"), scaleTril: parameter("scaleTril"))
        case "Delta":
            return Delta(Tensor(shape: batch + reference.eventShape, scalars: reference.parameters["value"]!.map(Float.init)),
                         logDensity: parameter("logDensity"), eventRank: reference.eventShape.count)
        case "FiniteDiscrete":
            let support = reference.parameters["support"]!.map(Float.init)
            let eventCount = reference.eventShape.reduce(1, *)
            let logits = reference.parameters["logits"]!.map(Float.init)
            return FiniteDiscrete(values: Tensor(shape: [support.count / eventCount] + reference.eventShape, scalars: support),
                                  logits: Tensor(shape: batch + [support.count / eventCount], scalars: logits))
        default:
            XCTFail("unknown distribution \(reference.distribution)")
            return Normal(0, 1)
        }
    }

    func assertClose(_ ours: [Float], _ expected: [Double], _ what: String, _ reference: ReferenceCase, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, expected.count, "\(reference.distribution) (\(reference.label)) \(what) count", file: file, line: line)
        for (i, (a, b)) in zip(ours, expected).enumerated() {
            if b.isInfinite {
                XCTAssertEqual(Double(a), b, "\(reference.distribution) (\(reference.label)) \(what)[\(i)]", file: file, line: line)
            } else {
                XCTAssertEqual(Double(a), b, accuracy: 3e-5 * (1 + Swift.abs(b)), "\(reference.distribution) (\(reference.label)) \(what)[\(i)]", file: file, line: line)
            }
        }
    }

    func testEveryFamilyMatchesScipy() throws {
        XCTAssertGreaterThanOrEqual(referenceCases.count, 40)
        for reference in referenceCases {
            let distribution = try checkingTensorErrors { make(reference) }
            XCTAssertEqual(distribution.batchShape, reference.batchShape, "\(reference.distribution) (\(reference.label)) batch shape")
            XCTAssertEqual(distribution.eventShape, reference.eventShape, "\(reference.distribution) (\(reference.label)) event shape")
            let values = Tensor(shape: [reference.points] + reference.batchShape + reference.eventShape, scalars: reference.values.map(Float.init))
            let logProb = try checkingTensorErrors { distribution.logProb(values) }
            assertClose(logProb.scalars, reference.logProb, "logProb", reference)
            if !reference.mean.isEmpty { assertClose(distribution.mean.scalars, reference.mean, "mean", reference) }
            if !reference.variance.isEmpty { assertClose(distribution.variance.scalars, reference.variance, "variance", reference) }
            assertClose(distribution.entropy().scalars, reference.entropy, "entropy", reference)
        }
    }
}

import Foundation
import Distributions
import PPL
import TensorCore
import XCTest

/// Effect handlers alone and composed.
final class HandlerTests: XCTestCase {
    let model = Model("two-level") { (x: Tensor) in
        let mu = latent("mu") ~ Normal(0, 10)
        plate("data", size: x.shape[0]) {
            observe("x", x) ~ Normal(mu, 1)
        }
    }
    let x = Tensor([1, 2, 3, 4])

    func record(_ handlers: [any Handler]) throws -> Trace {
        let recorder = TraceHandler()
        try model.run(x, handlers: [recorder] + handlers)
        return recorder.trace
    }

    func testReplayOfAConditionedTraceReusesItsValues() throws {
        let conditioned = try record([ConditionHandler(["mu": Tensor(2.5)])])
        XCTAssertEqual(conditioned["mu"]?.value.scalar, 2.5)
        XCTAssertEqual(conditioned["mu"]?.kind, .observed)
        let replayed = try record([ReplayHandler(try record([SeedHandler(seed: 5)]))])
        let original = try record([SeedHandler(seed: 5)])
        XCTAssertEqual(replayed["mu"]?.value.scalar, original["mu"]?.value.scalar)
        XCTAssertEqual(replayed.logJoint.scalar, original.logJoint.scalar, accuracy: 1e-5)
    }

    func testScaleInsidePlatesMultipliesLogProbabilities() throws {
        let plain = try record([ConditionHandler(["mu": Tensor(1)])])
        let scaled = try record([ConditionHandler(["mu": Tensor(1)]), ScaleHandler(0.5)])
        XCTAssertEqual(scaled["x"]?.scale, 0.5)
        XCTAssertEqual(scaled.logJoint.scalar, 0.5 * plain.logJoint.scalar, accuracy: 1e-4)
    }

    func testSubsampledPlateScalesByNOverM() throws {
        let minibatch = Model("minibatch") { (x: Tensor) in
            plate("data", size: 1000, subsample: x) {
                observe("x", x) ~ Normal(0, 1)
            }
        }
        let trace = try minibatch.trace(Tensor([0, 1]))
        XCTAssertEqual(trace["x"]?.scale, 500)
        let perPoint = -Foundation.log(2 * Double.pi) - 0.5
        XCTAssertEqual(Double(trace.logJoint.scalar), 500 * perPoint, accuracy: 1e-2)
    }

    func testNestedPlatesTakeDimensionsFromTheRight() throws {
        let grid = Model("grid") { (rows: Int, columns: Int) in
            plate("rows", size: rows) {
                plate("columns", size: columns) {
                    latent("cell") ~ Normal(0, 1)
                }
            }
        }
        let site = try XCTUnwrap(try grid.trace(3, 4)["cell"])
        XCTAssertEqual(site.value.shape, [4, 3], "the outer plate takes dimension -1, the inner -2")
        XCTAssertEqual(site.plates.map(\.name), ["rows", "columns"])
        XCTAssertEqual(site.plates.map(\.dim), [-1, -2])
    }

    func testMaskDropsMaskedTerms() throws {
        let maskedRows = Model("masked rows") { (x: Tensor) in
            let mu = latent("mu") ~ Normal(0, 10)
            plate("data", size: x.shape[0]) {
                MaskHandler(Tensor([1, 0, 1, 0])).run { observe("x", x) ~ Normal(mu, 1) }
            }
        }
        let recorder = TraceHandler()
        try maskedRows.run(x, handlers: [recorder, ConditionHandler(["mu": Tensor(0)])])
        let expected = -0.5 * (1.0 + 9) - 2 * 0.5 * Foundation.log(2 * Double.pi)
        XCTAssertEqual(Double(recorder.trace["x"]!.logProb!.sum().scalar), expected, accuracy: 1e-4)
        // Around the global mu too, the mask of four rows would count its one term four times.
        XCTAssertThrowsError(try record([ConditionHandler(["mu": Tensor(0)]), MaskHandler(Tensor([1, 0, 1, 0]))])) { error in
            XCTAssertTrue("\(error)".contains("the MaskHandler mask around it has shape [4], which does not fit the site's batch shape [] (one value)"), "\(error)")
        }
    }

    func testBlockHidesSitesFromOuterHandlers() throws {
        let recorder = TraceHandler()
        try model.run(x, handlers: [recorder, BlockHandler(hiding: { $0.name == "mu" })])
        XCTAssertEqual(recorder.trace.names, ["x"])
    }

    func testSubstituteSetsParameters() throws {
        let withParameter = Model("p") { (x: Tensor) in
            let loc = param("loc", Tensor(0))
            observe("x", x) ~ Normal(loc, 1)
        }
        let recorder = TraceHandler()
        try withParameter.run(Tensor([3]), handlers: [recorder, SubstituteHandler(["loc": Tensor(3)])])
        XCTAssertEqual(Double(recorder.trace["x"]!.logProb!.scalar), -0.5 * Foundation.log(2 * Double.pi), accuracy: 1e-6)
    }

    func testHandlerStackIsRestoredAfterAThrowingRun() throws {
        XCTAssertThrowsError(try record([ConditionHandler(["mu": Tensor([1, 2, 3])])]))
        XCTAssertTrue(HandlerStack.handlers.isEmpty)
    }
}

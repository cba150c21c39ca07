import Foundation
import Distributions
import Inference
import NN
import Optim
import PPL
import TensorCore
import XCTest

/// Data-parallel training (processes as threads of one program, summing as MPI does): N
/// processes sharing each minibatch end where one process with the whole minibatch ends, up to
/// float32 summation order, whatever N, for local and global latents, enumerated sites and a
/// random transform of the data; a failure on one process stops all with one message.
final class DataParallelTests: XCTestCase {
    let vae = Model("vae") { (x: Tensor, n: Int) in
        let decoder = module("decoder", MLP([2, 8, 12], activation: .tanh))
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(0, 1).expanded(to: [2]).independent(1)
            observe("x", x) ~ Bernoulli(logits: decoder(z)).independent(1)
        }
    }

    let hierarchical = Model("hierarchical") { (x: Tensor, n: Int) in
        let mu = latent("mu") ~ Normal(0, 2).expanded(to: [3]).independent(1)
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Normal(mu, 1).independent(1)
            observe("x", x) ~ Normal(z, 0.5).independent(1)
        }
    }

    let mixture = Model("mixture") { (x: Tensor, n: Int) in
        let locs = param("locs", Tensor([[1, 1], [3, 0]]))
        plate("data", size: n, subsample: x) {
            let z = latent("z") ~ Categorical(probs: Tensor([0.5, 0.5]))
            let w = latent("w") ~ Normal(0, 1)
            observe("x", x) ~ Normal(locs[z] + w.unsqueezed(axis: -1), 0.5).independent(1)
        }
    }

    /// Trains `model` on `data` in `processes` threads; the inferences of every process, in order.
    func train(_ model: Model<Tensor, Int>, _ data: Tensor, processes: Int, options: TrainingOptions, resume: Checkpoint? = nil,
               transform: (@Sendable (Tensor, inout RandomGenerator) -> Tensor)? = nil) throws -> [Amortized<Tensor>] {
        let group = ThreadGroup(size: processes)
        return try onThreads(processes) { rank in
            var mine = options
            if processes > 1 { mine.communicator = group.member(rank) }
            let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [8], activation: .tanh), seed: 3)
            return Result { _ = try vi.fit(data, options: mine, resume: resume, transform: transform); return vi }
        }.map { try $0.get() }
    }

    /// `body(rank)` for each rank on a thread of its own, all at once.
    func onThreads(_ count: Int, _ body: @escaping (Int) -> Result<Amortized<Tensor>, any Error>) -> [Result<Amortized<Tensor>, any Error>] {
        let results = ResultBox(count: count)
        let work = Unchecked(body)
        let done = DispatchGroup()
        for rank in 0..<count {
            done.enter()
            let thread = Thread {
                results.set(rank, work.value(rank))
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.values.map { $0! }
    }

    /// The largest difference between the parameters of `a` and `b`, relative to their size.
    func largestDifference(_ a: Amortized<Tensor>, _ b: Amortized<Tensor>) -> Float {
        var largest: Float = 0
        for (first, second) in [(a.parameters, b.parameters), (a.guideParameters, b.guideParameters)] {
            XCTAssertEqual(first.names, second.names)
            for name in first.names {
                for (x, y) in zip(first[name]!.scalars, second[name]!.scalars) { largest = max(largest, abs(x - y) / (1 + abs(x))) }
            }
        }
        return largest
    }

    func binaryRows(_ count: Int, seed: UInt64) -> Tensor {
        var generator = RandomGenerator(seed: seed)
        return Tensor.randomUniform([count, 12], using: &generator).mapped { $0 > 0.6 ? 1 : 0 }
    }

    func testProcessesShareEachMinibatchAndEndWhereOneProcessEnds() throws {
        var generator = RandomGenerator(seed: 5)
        let points = Tensor.randomNormal([90, 3], using: &generator) + 1.5
        let clusters = Tensor.randomNormal([90, 2], using: &generator) * 0.5 + Tensor([[1, 1]])
        var options = TrainingOptions(epochs: 3, batchSize: 32, optimizer: .adam(learningRate: 0.01))
        options.seed = 11
        let stochastic: @Sendable (Tensor, inout RandomGenerator) -> Tensor = { Tensor.randomBernoulli(probabilities: $0, using: &$1) }
        let cases: [(String, Model<Tensor, Int>, Tensor, (@Sendable (Tensor, inout RandomGenerator) -> Tensor)?)] = [
            ("local latents", vae, binaryRows(100, seed: 1), nil),
            ("a random transform of the data", vae, binaryRows(100, seed: 2).mapped { $0 * 0.8 + 0.1 }, stochastic),
            ("a global latent", hierarchical, points, nil),
            ("an enumerated site beside a local one", mixture, clusters, nil),
        ]
        for (name, model, data, transform) in cases {
            let one = try train(model, data, processes: 1, options: options, transform: transform)[0]
            for processes in [2, 3] {
                let many = try train(model, data, processes: processes, options: options, transform: transform)
                for other in many.dropFirst() { XCTAssertEqual(largestDifference(many[0], other), 0, "\(name): every process holds the same parameters") }
                XCTAssertLessThan(largestDifference(one, many[0]), 1e-6, "\(name), \(processes) processes")
            }
        }
    }

    func testResumingWithAnotherNumberOfProcesses() throws {
        let data = binaryRows(96, seed: 4)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("latent-parallel-\(UUID().uuidString).ckpt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = TrainingOptions(epochs: 4, batchSize: 24, optimizer: .adam(learningRate: 0.01))
        options.seed = 2
        let straight = try train(vae, data, processes: 1, options: options)[0]
        var firstHalf = options
        firstHalf.epochs = 2
        firstHalf.checkpointPath = path
        _ = try train(vae, data, processes: 2, options: firstHalf)
        let resumed = try train(vae, data, processes: 3, options: options, resume: try Checkpoint.read(from: path))
        XCTAssertLessThan(largestDifference(straight, resumed[0]), 1e-6)
    }

    func testAFailureOnOneProcessStopsEveryProcessWithItsMessage() throws {
        var scalars = binaryRows(64, seed: 6).scalars
        scalars[60 * 12 + 5] = 2
        let bad = Tensor(shape: [64, 12], scalars: scalars)
        var options = TrainingOptions(epochs: 1, batchSize: 64, optimizer: .adam(learningRate: 0.01))
        options.seed = 1
        let group = ThreadGroup(size: 2)
        let model = vae
        let messages = onThreads(2) { rank in
            var mine = options
            mine.communicator = group.member(rank)
            let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [8]), seed: 3)
            return Result { _ = try vi.fit(bad, options: mine); return vi }
        }
        let errors = messages.map { result -> String in
            guard case let .failure(error) = result else { return "no error" }
            return "\(error)"
        }
        XCTAssertEqual(errors[0], errors[1])
        XCTAssertTrue(errors[0].contains("'x'") && errors[0].contains("2"), errors[0])
    }

    /// Processes given different data, or different settings, all stop before the first step.
    func testProcessesThatDoNotStartAlikeAreRefused() throws {
        let model = vae
        for differ in ["data", "epochs"] {
            let group = ThreadGroup(size: 2)
            let results = onThreads(2) { rank in
                var options = TrainingOptions(epochs: differ == "epochs" && rank == 1 ? 3 : 2, batchSize: 16)
                options.communicator = group.member(rank)
                var rows = self.binaryRows(64, seed: 3)
                if differ == "data", rank == 1 { rows = self.binaryRows(64, seed: 4) }
                let vi = Amortized(model, options: CompilerOptions(hiddenSizes: [8]), seed: 3)
                return Result { _ = try vi.fit(rows, options: options); return vi }
            }
            for result in results {
                guard case let .failure(error) = result else { return XCTFail("\(differ): training went ahead") }
                XCTAssertTrue("\(error)".hasPrefix("bad training options: 1 of the 2 processes do not start as process 0 does"), "\(error)")
            }
        }
    }

    /// A site in the data plate written with one value (the plate gives it one per row): split
    /// over 2 processes, it trains as in one.
    func testASiteTheDataPlateExpandsSplitsLikeAnyOther() throws {
        let broadcast = Model("broadcast") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                let c = latent("c") ~ Normal(Tensor.zeros([1]), 1)
                observe("x", x) ~ Normal(c, 1)
            }
        }
        var generator = RandomGenerator(seed: 2)
        let points = Tensor.randomNormal([40], using: &generator)
        var options = TrainingOptions(epochs: 2, batchSize: 16, optimizer: .adam(learningRate: 0.01))
        options.seed = 4
        let one = try train(broadcast, points, processes: 1, options: options)[0]
        let two = try train(broadcast, points, processes: 2, options: options)
        XCTAssertLessThan(largestDifference(one, two[0]), 1e-6)
    }

    func testWhatProcessesCannotShareIsRefused() throws {
        let data = binaryRows(10, seed: 7)
        let cases: [(Int, String)] = [(4, "3 processes every minibatch needs at least 3 rows, but 2 rows make the last minibatch of each epoch"),
                                      (2, "3 processes every minibatch needs at least 3 rows, but 2 rows make each minibatch")]
        for (batchSize, expected) in cases {
            XCTAssertThrowsError(try train(vae, data, processes: 3, options: TrainingOptions(epochs: 1, batchSize: batchSize))) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        var options = CompilerOptions(hiddenSizes: [4])
        options.estimators = ["z": .scoreFunction]
        let group = ThreadGroup(size: 2), model = mixture, points = binaryRows(8, seed: 1).slice(axis: 1, 0..<2)
        let results = onThreads(2) { rank in
            var training = TrainingOptions(epochs: 1, batchSize: 4)
            training.communicator = group.member(rank)
            let vi = Amortized(model, options: options)
            return Result { _ = try vi.fit(points, options: training); return vi }
        }
        for result in results {
            guard case let .failure(error) = result else { return XCTFail("a score-function site was trained on 2 processes") }
            XCTAssertTrue("\(error)".contains("site 'z' (") && "\(error)".contains("is estimated by the score function"), "\(error)")
        }
        // A site summed out outside the data plate: each process's share stood for all the
        // rows, and the objective exceeded log p(x) (-7.77 a row for -8.75).
        let shared = Model("shared state") { (x: Tensor, n: Int) in
            let s = latent("s") ~ Categorical(probs: Tensor([0.3, 0.7]))
            plate("data", size: n, subsample: x) { observe("x", x) ~ Normal(Tensor([-1, 1])[s], 1) }
        }
        var summed = CompilerOptions(hiddenSizes: [4])
        summed.estimators = ["s": .marginalized]
        let sharedGroup = ThreadGroup(size: 2)
        let outcomes = onThreads(2) { rank in
            var training = TrainingOptions(epochs: 1, batchSize: 4)
            training.communicator = sharedGroup.member(rank)
            let vi = Amortized(shared, options: summed)
            return Result { _ = try vi.fit(Tensor([0.3, -1.2, 1.5, 0.9]), options: training); return vi }
        }
        for outcome in outcomes {
            guard case let .failure(error) = outcome else { return XCTFail("a summed site outside the data plate was trained on 2 processes") }
            XCTAssertTrue("\(error)".contains("site 's'") && "\(error)".contains("on each of 2 processes' share of the rows standing for all 4"), "\(error)")
        }
    }
}

/// Results filled in by threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<Amortized<Tensor>, any Error>?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result<Amortized<Tensor>, any Error>) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}

/// A value handed to another thread as is.
final class Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

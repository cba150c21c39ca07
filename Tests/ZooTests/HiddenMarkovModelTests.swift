import Foundation
import Latent
import XCTest

/// A hidden Markov model over rows that are sequences of T = 60 observations: three hidden
/// levels with a learned transition matrix and learned level locations. The states form a
/// `markov` chain, so the compiler sums them out of the model (no guide) in linear time; the
/// ELBO is then the exact log-likelihood, checked against the forward algorithm in Double and
/// the posterior of each state against forward-backward.
final class HiddenMarkovModelTests: XCTestCase {
    static let steps = 60

    let model = Model("hmm") { (x: Tensor, n: Int) in
        let transition = param("transition", Tensor([[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]]), constraint: .simplex)
        let levels = param("levels", Tensor([-0.5, 0, 0.5]))
        plate("data", size: n, subsample: x) {
            var state = Tensor(0)
            markov("time", steps: HiddenMarkovModelTests.steps) { t in
                state = latent("state \(t)") ~ Categorical(probs: t == 0 ? Tensor.ones([3]) / 3 : transition[state])
                observe("x \(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(levels[state], 0.5)
            }
        }
    }

    /// 30 sequences from transition rows (0.9, 0.05, 0.05) cycled and levels (-2, 0, 2).
    func sequences() -> Tensor {
        var generator = RandomGenerator(seed: 81)
        let transition = [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]
        var values: [Float] = []
        for _ in 0..<30 {
            var state = Int(generator.next() % 3)
            for _ in 0..<Self.steps {
                let u = Double(generator.next() >> 11) / Double(1 << 53)
                state = u < transition[state][0] ? 0 : u < transition[state][0] + transition[state][1] ? 1 : 2
                let noise = Tensor.randomNormal([1], using: &generator).scalar
                values.append(Float(2 * (state - 1)) + 0.5 * noise)
            }
        }
        return Tensor(shape: [30, Self.steps], scalars: values)
    }

    /// Forward and backward messages in Double: log p(x) per row and p(state_t | x) per row.
    func forwardBackward(_ x: Tensor, transition: [[Double]], levels: [Double], at t: Int) -> (logLikelihood: [Double], marginal: [[Double]]) {
        let values = x.scalars.map(Double.init)
        var logLikelihoods: [Double] = [], marginals: [[Double]] = []
        for row in 0..<x.shape[0] {
            let emission = (0..<Self.steps).map { s in levels.map { normalLogDensity(values[row * Self.steps + s], $0, 0.5) } }
            var alpha = [[Double]](repeating: [0, 0, 0], count: Self.steps)
            alpha[0] = (0..<3).map { Foundation.log(1.0 / 3) + emission[0][$0] }
            for s in 1..<Self.steps {
                alpha[s] = (0..<3).map { k in logSumExp((0..<3).map { alpha[s - 1][$0] + Foundation.log(transition[$0][k]) }) + emission[s][k] }
            }
            var beta = [[Double]](repeating: [0, 0, 0], count: Self.steps)
            for s in stride(from: Self.steps - 2, through: 0, by: -1) {
                beta[s] = (0..<3).map { j in logSumExp((0..<3).map { Foundation.log(transition[j][$0]) + emission[s + 1][$0] + beta[s + 1][$0] }) }
            }
            let total = logSumExp(alpha[Self.steps - 1])
            logLikelihoods.append(total)
            marginals.append((0..<3).map { Foundation.exp(alpha[t][$0] + beta[t][$0] - total) })
        }
        return (logLikelihoods, marginals)
    }

    /// A second-order chain declared with the default history of 1: a helper's was refused with
    /// "its batch shape [2, 2, 4] reaches dimension -2 ...; give the model's plates fewer
    /// dimensions", which says nothing of the chain. It now names the history to declare; with
    /// it, log p(x) is the brute-force sum over the 2^4 state paths.
    func testAChainReadingFurtherBackThanItsHistoryNamesIt() throws {
        let x = Tensor([[0.9, -1.2, 1.1, 0.4], [-0.3, -0.8, 1.5, -1.1]])
        let first = Tensor([0.6, 0.4]), second = Tensor([[0.8, 0.2], [0.3, 0.7]])
        let third = Tensor([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5], [0.2, 0.8]])
        func chain(history: Int) -> Model<Tensor, Int> {
            Model("second order") { (x: Tensor, n: Int) in
                plate("data", size: n, subsample: x) {
                    var (last, before) = (Tensor(0), Tensor(0))
                    markov("time", steps: 4, history: history) { t in
                        let s = latent("s\(t)") ~ Categorical(probs: t == 0 ? first : t == 1 ? second[last] : third[2 * before + last])
                        observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(2 * s - 1, 1)
                        (before, last) = (last, s)
                    }
                }
            }
        }
        XCTAssertThrowsError(try chain(history: 1).logMarginalLikelihood(x, 2)) { error in
            XCTAssertTrue("\(error)".hasPrefix("site 's2' at ZooTests/HiddenMarkovModelTests.swift:\(#line - 8) cannot be summed out exactly: its batch shape [2, 2, 2] reaches dimension -2, which chain 'time' reuses from site 's0', more than 1 step back (markov history 1); a site that depends on one further back needs markov(\"time\", steps: ..., history: 2) or more"), "\(error)")
        }
        let exact = (0..<2).map { row -> Double in
            var total = 0.0
            for path in 0..<16 {
                let s = (0..<4).map { (path >> $0) & 1 }
                var p = Double(first.scalars[s[0]]) * Double(second.scalars[2 * s[0] + s[1]])
                for t in 2..<4 { p *= Double(third.scalars[2 * (2 * s[t - 2] + s[t - 1]) + s[t]]) }
                for t in 0..<4 {
                    let d = Double(x.scalars[4 * row + t]) - Double(2 * s[t] - 1)
                    p *= Foundation.exp(-0.5 * d * d) / (2 * Double.pi).squareRoot()
                }
                total += p
            }
            return Foundation.log(total)
        }.reduce(0, +)
        XCTAssertEqual(Double(try chain(history: 2).logMarginalLikelihood(x, 2).scalar), exact, accuracy: 1e-4)
    }

    /// Three sequences of five steps, three levels: log p(x) of the plain HMM and of one whose
    /// observation at t reads the state at t - 2 (brute force over every path, numpy in Double).
    static let shortSequences = Tensor([[-1.2, 0.3, 2.1, 1.8, -0.5], [0.4, 0.6, -0.9, 2.5, 2.2], [1.9, -1.1, -0.7, 0.1, 0.8]])
    static let (plainLogLikelihood, lagTwoLogLikelihood) = (-25.42919863524444, -30.758520308995386)

    /// The HMM of `shortSequences` with its states kept in an array in the chain and read by
    /// `emission(states, t)` in the chain (`inside`) or in a loop after it.
    func shortChain(history: Int = 1, inside: Bool, emission: @escaping @Sendable ([Tensor], Int) -> Tensor) -> Model<Tensor, Int> {
        let initial = Tensor([0.5, 0.3, 0.2]), transition = Tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
        let levels = Tensor([-1, 0.5, 2])
        return Model("short chain") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                var states: [Tensor] = []
                markov("time", steps: 5, history: history) { t in
                    let s = latent("s\(t)") ~ Categorical(probs: t == 0 ? initial : transition[states[t - 1]])
                    states.append(s)
                    if inside { observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(levels[emission(states, t)], 0.8) }
                }
                if !inside {
                    for t in 0..<5 { observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(levels[emission(states, t)], 0.8) }
                }
            }
        }
    }

    func testAReadOfAChainSiteWhoseDimensionWasReusedIsRefused() throws {
        let x = Self.shortSequences
        XCTAssertEqual(Double(try shortChain(inside: true) { $0[$1] }.logMarginalLikelihood(x, 3).scalar), Self.plainLogLikelihood, accuracy: 1e-4)
        XCTAssertThrowsError(try shortChain(history: 0, inside: true) { $0[$1] }.logMarginalLikelihood(x, 3)) { error in
            XCTAssertTrue("\(error)".hasPrefix("Markov chain 'time' at ZooTests/HiddenMarkovModelTests.swift:"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix(": it needs steps >= 0 and history >= 1, got steps 5 and history 0"), "\(error)")
        }
        // States observed after the chain: x0 would be paired with s4, which took s0's dimension.
        let after = shortChain(inside: false) { $0[$1] }
        for attempt in [{ _ = try after.logMarginalLikelihood(x, 3) }, { _ = try after.exactPosterior(x, 3, site: "s2") }, { _ = try Amortized(after).compile(example: x, datasetSize: 3) }] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertTrue("\(error)".hasPrefix("site 'x0' at ZooTests/HiddenMarkovModelTests.swift:"), "\(error)")
                XCTAssertTrue("\(error)".contains("depends on a value its Markov chain no longer holds: it reads 's0' (step 0 of chain 'time'), whose enumeration dimension the chain has given to 's4' by then"), "\(error)")
            }
        }
        // With the history the reads need, both ways of writing it give log p(x).
        XCTAssertEqual(Double(try shortChain(history: 4, inside: false) { $0[$1] }.logMarginalLikelihood(x, 3).scalar), Self.plainLogLikelihood, accuracy: 1e-4)
        // An observation reading two steps back under history 1 (a latent doing so is refused
        // where it is enumerated; an observation was paired with s_t instead).
        let lagTwo: @Sendable ([Tensor], Int) -> Tensor = { states, t in states[t >= 2 ? t - 2 : t] }
        XCTAssertThrowsError(try shortChain(inside: true, emission: lagTwo).logMarginalLikelihood(x, 3)) { error in
            XCTAssertTrue("\(error)".hasPrefix("site 'x2' at ZooTests/HiddenMarkovModelTests.swift:"), "\(error)")
            XCTAssertTrue("\(error)".contains("it reads 's0' (step 0 of chain 'time'), whose enumeration dimension the chain has given to 's2' by then"), "\(error)")
        }
        XCTAssertEqual(Double(try shortChain(history: 2, inside: true, emission: lagTwo).logMarginalLikelihood(x, 3).scalar), Self.lagTwoLogLikelihood, accuracy: 1e-4)
        // A regime drawn at step 0 and read by every step: s2 takes its dimension, and its 2
        // values then meet the 3 of s2.
        let regime = Model("regime") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                var (s, r) = (Tensor(0), Tensor(0))
                markov("time", steps: 5) { t in
                    if t == 0 { r = latent("regime") ~ Bernoulli(probs: 0.4) }
                    s = latent("s\(t)") ~ Categorical(probs: t == 0 ? Tensor([0.5, 0.3, 0.2]) : Tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])[s])
                    observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(Tensor([-1, 0.5, 2])[s] + Tensor([0, 1])[r], 0.8)
                }
            }
        }
        XCTAssertThrowsError(try regime.logMarginalLikelihood(x, 3)) { error in
            XCTAssertTrue("\(error)".hasPrefix("site 'x2' at ZooTests/HiddenMarkovModelTests.swift:\(#line - 5) depends on a value its Markov chain no longer holds: it fails (add: shapes [3, 1] and [2, 1] do not broadcast) with the chain's dimensions reused, and runs when they are not"), "\(error)")
        }
    }

    /// Reads 16 and 17 steps back under history 1 passed a check that reused dimensions after
    /// 16 steps (log p(x) -95.39 for -98.93 at 16): short chains now get a dimension a site,
    /// and chains of more than 256 sites three runs of other periods.
    func testReadsFarBackAreRefusedInShortAndLongChains() throws {
        for (steps, lag) in [(20, 16), (20, 17), (300, 16), (300, 17), (300, 40)] {
            var generator = RandomGenerator(seed: 3)
            let x = Tensor.randomNormal([2, steps], using: &generator)
            let model = Model("lagged") { (x: Tensor, n: Int) in
                plate("data", size: n, subsample: x) {
                    var states: [Tensor] = []
                    markov("time", steps: steps) { t in
                        let s = latent("s\(t)") ~ Categorical(probs: t == 0 ? Tensor([0.5, 0.5]) : Tensor([[0.8, 0.2], [0.3, 0.7]])[states[t - 1]])
                        states.append(s)
                        observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(2 * states[t >= lag ? t - lag : t] - 1, 1)
                    }
                }
            }
            XCTAssertThrowsError(try model.logMarginalLikelihood(x, 2), "\(steps) steps, \(lag) back") { error in
                XCTAssertTrue("\(error)".contains("depends on a value its Markov chain no longer holds"), "\(error)")
            }
        }
        // A running sum of every state read at each step: run with a dimension a site, its
        // tensors doubled with each step (2^40 entries), and the process died allocating them.
        var generator = RandomGenerator(seed: 4)
        let x = Tensor.randomNormal([2, 40], using: &generator)
        let running = Model("running sum") { (x: Tensor, n: Int) in
            plate("data", size: n, subsample: x) {
                var total = Tensor(0)
                markov("time", steps: 40) { t in
                    total = total + (latent("s\(t)") ~ Bernoulli(probs: 0.5))
                    observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(total / Float(t + 1), 1)
                }
            }
        }
        XCTAssertThrowsError(try running.logMarginalLikelihood(x, 2)) { error in
            XCTAssertTrue("\(error)".contains("depends on a value its Markov chain no longer holds"), "\(error)")
        }
    }

    /// A hand-written guide that enumerates a chain under `markov` reuses its dimensions as the
    /// model's chains do, and the model replays them: a second-order model read s(t-2) on the
    /// dimension a history-1 guide had given to s(t) (ELBO -18.59 where it is -21.18). The
    /// check of chain reads runs on the guide's chains too; with history 2 the ELBO is exact.
    func testAGuidesChainIsCheckedForStaleReads() throws {
        let x = Tensor([[0.3, 2.5, -1.2, 1.9], [1.1, -0.4, 0.7, 2.2]])
        let mu: [Float] = [-1, 1.5], start: [Float] = [0.2, -0.2], first: [[Float]] = [[0.5, -0.5], [-0.3, 0.8]], second: [[Float]] = [[1, -1], [-0.7, 0.4]]
        let guideStart: [Float] = [0.1, -0.1], guideStep: [[Float]] = [[0.3, -0.2], [-0.5, 0.9]]
        let model = Model("second-order hmm") { (x: Tensor, n: Int) in
            var previous = Tensor(0), before = Tensor(0)
            markov("time", steps: 4, history: 2) { t in
                plate("data", size: n, subsample: x) {
                    let logits = t == 0 ? Tensor(start) : t == 1 ? Tensor(first)[previous] : Tensor(first)[previous] + Tensor(second)[before]
                    let s = latent("s\(t)") ~ Categorical(logits: logits)
                    observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(Tensor(mu)[s], 1)
                    before = previous
                    previous = s
                }
            }
        }
        func guide(history: Int) -> Model<Tensor, Int> {
            Model("first-order guide") { (x: Tensor, n: Int) in
                var previous = Tensor(0)
                markov("time", steps: 4, history: history) { t in
                    plate("data", size: n, subsample: x) {
                        previous = latent("s\(t)") ~ Categorical(logits: t == 0 ? Tensor(guideStart) : Tensor(guideStep)[previous])
                    }
                }
            }
        }
        XCTAssertThrowsError(try Amortized(model, guide: guide(history: 1)).elbo(x)) { error in
            XCTAssertTrue("\(error)".hasPrefix("site 's2' at ZooTests/HiddenMarkovModelTests.swift:\(#line - 18) depends on a value its Markov chain no longer holds: it reads 's0'"), "\(error)")
        }
        func logSoftmax(_ logits: [Float]) -> [Double] {
            let total = logSumExp(logits.map(Double.init))
            return logits.map { Double($0) - total }
        }
        var exact = 0.0
        for row in 0..<2 {
            for path in 0..<16 {
                let s = (0..<4).map { (path >> $0) & 1 }
                var logP = 0.0, logQ = logSoftmax(guideStart)[s[0]]
                for t in 0..<4 {
                    let logits = t == 0 ? start : t == 1 ? first[s[0]] : zip(first[s[t - 1]], second[s[t - 2]]).map { $0 + $1 }
                    logP += logSoftmax(logits)[s[t]] + normalLogDensity(Double(x.scalars[row * 4 + t]), Double(mu[s[t]]), 1)
                    if t > 0 { logQ += logSoftmax(guideStep[s[t - 1]])[s[t]] }
                }
                exact += Foundation.exp(logQ) * (logP - logQ)
            }
        }
        XCTAssertEqual(Double(try Amortized(model, guide: guide(history: 2)).elbo(x)), exact, accuracy: 1e-4)
    }

    func testAChainSharedByTheRowsIsNotTrainedOnMinibatches() throws {
        let x = Self.shortSequences
        let initial = Tensor([0.5, 0.3, 0.2]), transition = Tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
        let shared = Model("shared chain") { (x: Tensor, n: Int) in
            var s = Tensor(0)
            markov("time", steps: 5) { t in
                s = latent("s\(t)") ~ Categorical(probs: t == 0 ? initial : transition[s])
                plate("data", size: n, subsample: x) { observe("x\(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(Tensor([-1, 0.5, 2])[s], 0.8) }
            }
        }
        // The minibatch "ELBO" of rows [0, 1] standing for all three read -20.59, above log p(x);
        // it is refused as training is, and so is its gradient.
        XCTAssertThrowsError(try Amortized(shared).elbo(x.slice(axis: 0, 0..<2), datasetSize: 3)) { error in
            XCTAssertTrue("\(error)".contains("site 's0'") && "\(error)".contains("on 2 rows standing for all 3"), "\(error)")
        }
        XCTAssertThrowsError(try Amortized(shared).objectiveGradient(x.slice(axis: 0, 0..<2), datasetSize: 3)) { error in
            XCTAssertTrue("\(error)".contains("on a minibatch of 2 rows standing for all 3"), "\(error)")
        }
        XCTAssertEqual(try Amortized(shared).elbo(x, datasetSize: 3), try shared.logMarginalLikelihood(x, 3).scalar, accuracy: 1e-3, "all rows: exact, the chain summed")
        XCTAssertThrowsError(try Amortized(shared).fit(x, options: TrainingOptions(epochs: 1, batchSize: 2))) { error in
            XCTAssertTrue("\(error)".contains("site 's0'"), "\(error)")
            XCTAssertTrue("\(error)".contains("on a minibatch of 2 rows standing for all 3"), "\(error)")
        }
        var options = CompilerOptions(hiddenSizes: [8])
        options.estimators = Dictionary(uniqueKeysWithValues: (0..<5).map { ("s\($0)", Estimator.enumerated) })
        XCTAssertNoThrow(try Amortized(shared, options: options).fit(x, options: TrainingOptions(epochs: 1, batchSize: 2)), "a guide's draws train on minibatches")
        XCTAssertNoThrow(try Amortized(shared).fit(x, options: TrainingOptions(epochs: 1, batchSize: 3)))
    }

    func testOneGuidedSiteInAChainOfSummedOnes() throws {
        // s2 drawn by the guide, s0, s1, s3 and s4 summed: s3 takes s1's dimension, which is
        // right, since s3 depends on the guide's s2 alone.
        let x = Self.shortSequences
        var options = CompilerOptions(hiddenSizes: [16])
        options.estimators = ["s2": .enumerated]
        let vi = Amortized(shortChain(inside: true) { $0[$1] }, options: options)
        let plan = try vi.compile(example: x, datasetSize: 3)
        XCTAssertEqual(plan.sites.filter { $0.estimator == .enumerated }.map(\.name), ["s2"])
        try trainToConvergence(vi, x, steps: 400, learningRate: 0.05, particles: 1)
        XCTAssertEqual(Double(try vi.elbo(x)), Self.plainLogLikelihood, accuracy: 0.01, "q(s2 | x) can equal p(s2 | x), which the sum over s2 then leaves exact")
    }

    func testHiddenMarkovModelAgainstTheForwardAlgorithm() throws {
        let x = sequences()
        let vi = Amortized(model)
        let plan = try vi.compile(example: x, datasetSize: 30)
        XCTAssertEqual(plan.sites.count, Self.steps)
        XCTAssertTrue(plan.sites.allSatisfy { $0.estimator == .marginalized && $0.parameterCount == 0 })
        let initial = forwardBackward(x, transition: [[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]], levels: [-0.5, 0, 0.5], at: 0).logLikelihood.reduce(0, +)
        XCTAssertEqual(Double(try vi.elbo(x)), initial, accuracy: 1e-5 * abs(initial), "with every state summed out the ELBO is log p(x)")

        try trainToConvergence(vi, x, steps: 300, learningRate: 0.05, particles: 1)
        let transition = vi.parameters["transition"]!.scalars.map(Double.init)
        let rows = (0..<3).map { Array(transition[(3 * $0)..<(3 * $0 + 3)]) }
        let levels = vi.parameters["levels"]!.scalars.map(Double.init)
        let (logLikelihood, marginal) = forwardBackward(x, transition: rows, levels: levels, at: 25)
        let exact = logLikelihood.reduce(0, +)
        XCTAssertEqual(Double(try vi.elbo(x)), exact, accuracy: 1e-5 * abs(exact))
        XCTAssertEqual(Double(try model.logMarginalLikelihood(x, 30, parameters: vi.parameters).scalar), exact, accuracy: 1e-5 * abs(exact))
        XCTAssertEqual(Double(try vi.importanceSampledLogLikelihood(x, samples: 1).sum().scalar), exact, accuracy: 1e-5 * abs(exact))
        XCTAssertGreaterThan(exact / 30, initial / 30 + 10, "training raised log p(x) per sequence")
        XCTAssertEqual(levels.sorted()[0], -2, accuracy: 0.2)
        XCTAssertEqual(levels.sorted()[2], 2, accuracy: 0.2)
        let posterior = try model.exactPosterior(x, 30, site: "state 25", parameters: vi.parameters).scalars.map(Double.init)
        for row in 0..<30 {
            for k in 0..<3 {
                XCTAssertEqual(posterior[row * 3 + k], marginal[row][k], accuracy: 1e-4, "p(state 25 = \(k) | x) of row \(row)")
            }
        }
    }
}

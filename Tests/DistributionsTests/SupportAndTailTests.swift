import Foundation
import Distributions
import TensorCore
import XCTest

/// Enumerated supports, and densities far in the tails stay finite and correct.
final class SupportAndTailTests: XCTestCase {
    func testEnumeratedSupportsHaveTotalMassOne() {
        let bernoulli = Bernoulli(logits: Tensor([0.3, -2, 4]))
        let values = try! XCTUnwrap(bernoulli.enumerateSupport())
        XCTAssertEqual(values.shape, [2, 1])
        for total in bernoulli.logProb(values).logSumExp(axis: 0).scalars { XCTAssertEqual(total, 0, accuracy: 1e-6) }
        let categorical = Categorical(logits: Tensor([[1, 2, 3], [0, -50, 50]]))
        let categories = try! XCTUnwrap(categorical.enumerateSupport())
        XCTAssertEqual(categories.shape, [3, 1])
        for total in categorical.logProb(categories).logSumExp(axis: 0).scalars { XCTAssertEqual(total, 0, accuracy: 1e-6) }
        XCTAssertNil(Normal(0, 1).enumerateSupport())
    }

    /// A vector of binary elements is enumerated jointly: 2^3 distinct configurations, in the
    /// order of a binary count, whose probabilities are the products of the elements'.
    func testIndependentBernoulliVectorEnumeratesEveryConfiguration() throws {
        let vector = Bernoulli(probs: Tensor([[0.2, 0.7, 0.5], [0.9, 0.1, 0.4]])).independent(1)
        let values = try XCTUnwrap(vector.enumerateSupport())
        XCTAssertEqual(values.shape, [8, 1, 3])
        XCTAssertEqual(Array(values.scalars[(5 * 3)..<(6 * 3)]), [1, 0, 1])
        XCTAssertEqual(Set((0..<8).map { Array(values.scalars[(3 * $0)..<(3 * $0 + 3)]) }).count, 8)
        let probabilities = exp(vector.logProb(values))
        for total in probabilities.sum(axis: 0).scalars { XCTAssertEqual(total, 1, accuracy: 1e-6) }
        XCTAssertEqual(probabilities.scalars[5 * 2], 0.2 * 0.3 * 0.5, accuracy: 1e-6, "P(1, 0, 1) in the first row")
        XCTAssertNil(Bernoulli(probs: Tensor.full([13], 0.5)).independent(1).enumerateSupport(), "2^13 values pass the limit of 4096")
    }

    func testLogitsOfFiftyStayExact() {
        let bernoulli = Bernoulli(logits: Tensor([50, -50]))
        let tiny = -Foundation.log1p(Foundation.exp(-50.0))
        let expected: [[Double]] = [[tiny, -50 + tiny], [-50 + tiny, tiny]]
        for (value, row) in zip([Tensor([1, 1]), Tensor([0, 0])], expected) {
            for (ours, exact) in zip(bernoulli.logProb(value).scalars, row) {
                XCTAssertEqual(Double(ours), exact, accuracy: 1e-7 * Swift.abs(exact) + 1e-21)
            }
        }
        let categorical = Categorical(logits: Tensor([50, -50, 0]))
        XCTAssertEqual(categorical.logProb(Tensor([0, 1, 2])).scalars, [0, -100, -50])
    }

    func testNormalWithTinyAndHugeScalesAndFarTails() {
        XCTAssertEqual(Normal(0, 1e-6).logProb(Tensor(0)).scalar, Float(-Foundation.log(1e-6) - 0.5 * Foundation.log(2 * Double.pi)), accuracy: 1e-5)
        XCTAssertEqual(Normal(0, 1e6).logProb(Tensor(1e6)).scalar, Float(-0.5 - Foundation.log(1e6) - 0.5 * Foundation.log(2 * Double.pi)), accuracy: 1e-5)
        let far = Normal(0, 1).logProb(Tensor(141)).scalar
        XCTAssertEqual(far, Float(-0.5 * 141 * 141 - 0.5 * Foundation.log(2 * Double.pi)), accuracy: 1e-2)
        XCTAssertTrue(far.isFinite)
    }

    /// A Beta or Dirichlet density is finite at an end of its support when the concentration
    /// there is 1; the term 0 * log 0 made it NaN (Beta(1, 3) at 0 is 3, Beta(2, 1) at 1 is 2,
    /// Dirichlet(1, 2, 1) at (0, 1, 0) is 6), and so did its gradient.
    func testBetaAndDirichletAtTheEndsOfTheirSupport() {
        XCTAssertEqual(Beta(1, 3).logProb(Tensor(0)).scalar, Float(Foundation.log(3.0)), accuracy: 1e-6)
        XCTAssertEqual(Beta(2, 1).logProb(Tensor(1)).scalar, Float(Foundation.log(2.0)), accuracy: 1e-6)
        for value in Beta(1, 1).logProb(Tensor([0, 0.5, 1])).scalars { XCTAssertEqual(value, 0, accuracy: 1e-6) }
        XCTAssertEqual(Dirichlet(Tensor([1, 2, 1])).logProb(Tensor([0, 1, 0])).scalar, Float(Foundation.log(6.0)), accuracy: 1e-5)
        XCTAssertEqual(Beta(3, 1).logProb(Tensor(0)).scalar, -.infinity)
        let tape = GradientTape()
        let value = tape.watch(Tensor([0, 0.25]))
        let gradient = tape.gradient(of: tape.record { Beta(1, 3).logProb(value).sum() }, withRespectTo: [value])[0]
        XCTAssertEqual(gradient.scalars, [-2, -2 / 0.75].map(Float.init))
        // At a concentration of exactly 1 (exp(0), where a learned one starts) the gradient in it
        // keeps its log x term: d/da log Beta(x; a, 1) = log x + 1/a.
        let a = tape.watch(Tensor(1))
        let logProb = tape.record { Beta(a, Tensor(1)).logProb(Tensor(0.2)) }
        XCTAssertEqual(Double(tape.gradient(of: logProb, withRespectTo: [a])[0].scalar), Foundation.log(0.2) + 1, accuracy: 1e-5)
    }

    /// Log densities with large parameters, where log Gamma terms near 1e6-1e7 cancel: float32
    /// lost 0.83 nats for Poisson(1e6) at 1e6, 0.06 for StudentT(df 1e6), 0.17 for
    /// Beta(1e5, 1e5) and 0.04 for Gamma(1e5, 1e5) at 1.001. Against the same formulas in double
    /// precision, and the gradients in the rate and the degrees of freedom against central
    /// differences of those.
    func testLogDensitiesWithLargeParametersKeepTheirDigits() {
        func poisson(_ x: Double, _ rate: Double) -> Double { x * Foundation.log(rate) - rate - lgamma(x + 1) }
        func studentT(_ z: Double, _ df: Double) -> Double {
            lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * Foundation.log(df * Double.pi) - (df + 1) / 2 * Foundation.log1p(z * z / df)
        }
        func beta(_ x: Double, _ a: Double, _ b: Double) -> Double {
            (a - 1) * Foundation.log(x) + (b - 1) * Foundation.log1p(-x) - lgamma(a) - lgamma(b) + lgamma(a + b)
        }
        // Counts far above the rate: 1 + (r - n)/n cancelled, losing 473 nats for Poisson(0.01)
        // at 10,000, and giving -inf for Poisson(0.001) at 100,000 (a helper's cases).
        let farAbove: [(Double, Double)] = [(10_000, 0.01), (1000, 0.01), (3000, 0.1), (10_000, 0.1), (10_000, 1), (100_000, 2.5), (1000, 0.001), (100_000, 0.001)]
        for (x, rate) in [(1e6, 1e6), (999_000, 1e6), (0, 3.5), (2, 3.5), (7, 3.5), (40, 0.2), (0, 1e-30), (3, 30)] + farAbove {
            let ours = Double(Poisson(rate: Tensor(Float(rate))).logProb(Tensor(Float(x))).scalar)
            let exact = poisson(x, Double(Float(rate)))
            XCTAssertEqual(ours, exact, accuracy: 2e-6 * Swift.abs(exact) + 1e-4, "Poisson(\(rate)) at \(x)")
        }
        for (z, df) in [(0.5, 1e6), (3, 1e4), (0.5, 4), (2, 0.5)] {
            let ours = Double(StudentT(df: Tensor(Float(df)), loc: 0, scale: 1).logProb(Tensor(Float(z))).scalar)
            XCTAssertEqual(ours, studentT(z, df), accuracy: 1e-5 * Swift.abs(studentT(z, df)) + 1e-5, "StudentT(\(df)) at \(z)")
        }
        func gamma(_ x: Double, _ a: Double, _ rate: Double) -> Double { a * Foundation.log(rate) + (a - 1) * Foundation.log(x) - rate * x - lgamma(a) }
        for (x, a, rate) in [(1.001, 1e5, 1e5), (0.5, 1, 2), (3, 0.3, 0.7), (40, 20, 0.5)] {
            let ours = Double(Gamma(concentration: Tensor(Float(a)), rate: Tensor(Float(rate))).logProb(Tensor(Float(x))).scalar)
            // Rounding r x to float32 alone moves (a - 1) log(r x / a) by up to a * 1.2e-7.
            XCTAssertEqual(ours, gamma(x, a, rate), accuracy: 2e-6 * Swift.abs(gamma(x, a, rate)) + 1.2e-7 * a + 1e-5, "Gamma(\(a), \(rate)) at \(x)")
        }
        for (x, a, b) in [(0.5, 1e5, 1e5), (0.3, 0.1, 0.1), (0.9, 2, 30), (0.01, 500, 7)] {
            let ours = Double(Beta(Tensor(Float(a)), Tensor(Float(b))).logProb(Tensor(Float(x))).scalar)
            XCTAssertEqual(ours, beta(x, a, b), accuracy: 2e-6 * Swift.abs(beta(x, a, b)) + 2e-3 * (a + b > 1e4 ? 1 : 0.01), "Beta(\(a), \(b)) at \(x)")
        }
        let tape = GradientTape()
        let rate = tape.watch(Tensor(3.5)), df = tape.watch(Tensor(4))
        let (poissonLogProb, studentLogProb) = tape.record { (Poisson(rate: rate).logProb(Tensor(2)), StudentT(df: df, loc: 0, scale: 1).logProb(Tensor(0.5))) }
        let rateGradient = tape.gradient(of: poissonLogProb, withRespectTo: [rate])[0]
        let dfGradient = tape.gradient(of: studentLogProb, withRespectTo: [df])[0]
        let h = 1e-4
        XCTAssertEqual(Double(rateGradient.scalar), (poisson(2, 3.5 + h) - poisson(2, 3.5 - h)) / (2 * h), accuracy: 1e-5)
        XCTAssertEqual(Double(dfGradient.scalar), (studentT(0.5, 4 + h) - studentT(0.5, 4 - h)) / (2 * h), accuracy: 1e-5)
    }
    /// The Gamma's entropy and the Gamma KL at large concentrations, where float32 log Gamma and
    /// psi terms near 1e6 cancel (they lost 0.09 nats of entropy at a = 1e5, and 0.02 of KL):
    /// against the same formulas in double precision, and their gradients in the concentrations
    /// against central differences.
    func testGammaEntropyAndKLWithLargeConcentrationsKeepTheirDigits() throws {
        func entropy(_ a: Double, _ r: Double) -> Double { a - Foundation.log(r) + lgamma(a) + (1 - a) * digammaReference(a) }
        func kl(_ a1: Double, _ r1: Double, _ a2: Double, _ r2: Double) -> Double {
            (a1 - a2) * digammaReference(a1) - lgamma(a1) + lgamma(a2) + a2 * (Foundation.log(r1) - Foundation.log(r2)) + a1 * (r2 - r1) / r1
        }
        for (a, r) in [(1e5, 1e5), (2e4, 3), (1, 2), (0.3, 0.7), (20, 0.5)] {
            let ours = Double(Gamma(concentration: Tensor(Float(a)), rate: Tensor(Float(r))).entropy().scalar)
            XCTAssertEqual(ours, entropy(a, r), accuracy: 1e-5 * (1 + Swift.abs(entropy(a, r))), "entropy of Gamma(\(a), \(r))")
        }
        for (a1, r1, a2, r2) in [(1e5, 1e5, 1.01e5, 1e5), (1e5, 1e5, 1e5, 1.002e5), (5e4, 10, 4e4, 9), (2.5, 1.5, 1, 0.5), (0.3, 2, 4, 1), (7, 7, 7, 7)] {
            let ours = Double(try klDivergence(Gamma(concentration: Tensor(Float(a1)), rate: Tensor(Float(r1))), Gamma(concentration: Tensor(Float(a2)), rate: Tensor(Float(r2)))).scalar)
            let exact = kl(a1, r1, a2, r2)
            XCTAssertEqual(ours, exact, accuracy: 1e-5 * (1 + Swift.abs(exact)) + 5e-5, "KL(Gamma(\(a1), \(r1)) || Gamma(\(a2), \(r2)))")
        }
        let tape = GradientTape()
        let a = tape.watch(Tensor(3.5)), b = tape.watch(Tensor(2.5))
        let (h, k) = try tape.record { (Gamma(concentration: a, rate: Tensor(2)).entropy(), try klDivergence(Gamma(concentration: b, rate: Tensor(1.5)), Gamma(concentration: a, rate: Tensor(2)))) }
        let step = 1e-4
        XCTAssertEqual(Double(tape.gradient(of: h, withRespectTo: [a])[0].scalar), (entropy(3.5 + step, 2) - entropy(3.5 - step, 2)) / (2 * step), accuracy: 1e-5)
        let klGradients = tape.gradient(of: k, withRespectTo: [b, a])
        XCTAssertEqual(Double(klGradients[0].scalar), (kl(2.5 + step, 1.5, 3.5, 2) - kl(2.5 - step, 1.5, 3.5, 2)) / (2 * step), accuracy: 1e-5)
        XCTAssertEqual(Double(klGradients[1].scalar), (kl(2.5, 1.5, 3.5 + step, 2) - kl(2.5, 1.5, 3.5 - step, 2)) / (2 * step), accuracy: 1e-5)
    }
}

extension SupportAndTailTests {
    /// Beta and StudentT entropies and the Beta KL at large parameters, where float32 log Gamma
    /// and psi terms cancel (a helper's cases against scipy: 0.0025 nats off at Beta(2000, 3000),
    /// 0.03 at StudentT(1e6)): against the textbook formulas in double precision (the entropies
    /// matched scipy's entropy() to 1e-9 here), and the gradients against central differences.
    func testBetaAndStudentTEntropiesKeepTheirDigits() throws {
        func beta(_ a: Double, _ b: Double) -> Double {
            lgamma(a) + lgamma(b) - lgamma(a + b) - (a - 1) * digammaReference(a) - (b - 1) * digammaReference(b) + (a + b - 2) * digammaReference(a + b)
        }
        func studentT(_ df: Double, _ scale: Double) -> Double {
            (df + 1) / 2 * (digammaReference((df + 1) / 2) - digammaReference(df / 2)) + 0.5 * Foundation.log(df) + lgamma(df / 2) + lgamma(0.5) - lgamma((df + 1) / 2) + Foundation.log(scale)
        }
        for (a, b) in [(2000.0, 3000.0), (1e5, 1e5), (0.5, 0.5), (2, 30), (0.1, 5)] {
            let ours = Double(Beta(Tensor(Float(a)), Tensor(Float(b))).entropy().scalar)
            XCTAssertEqual(ours, beta(a, b), accuracy: 1e-5 * (1 + Swift.abs(beta(a, b))), "entropy of Beta(\(a), \(b))")
        }
        for (df, scale) in [(1e6, 1.0), (1e4, 1), (4, 1), (0.5, 2.5), (1, 1)] {
            let ours = Double(StudentT(df: Tensor(Float(df)), loc: 0, scale: Tensor(Float(scale))).entropy().scalar)
            XCTAssertEqual(ours, studentT(df, scale), accuracy: 1e-5 * (1 + Swift.abs(studentT(df, scale))), "entropy of StudentT(\(df), scale \(scale))")
        }
        func betaKL(_ a1: Double, _ b1: Double, _ a2: Double, _ b2: Double) -> Double {
            lgamma(a2) + lgamma(b2) - lgamma(a2 + b2) - lgamma(a1) - lgamma(b1) + lgamma(a1 + b1)
                + (a1 - a2) * digammaReference(a1) + (b1 - b2) * digammaReference(b1) + (a2 - a1 + b2 - b1) * digammaReference(a1 + b1)
        }
        for (a1, b1, a2, b2) in [(1e5, 1e5, 1.01e5, 1e5), (2000.0, 3000.0, 2100.0, 2900.0), (5e4, 10, 4e4, 12), (2, 3, 0.7, 1.5), (0.3, 2, 4, 1), (7, 7, 7, 7), (0.01, 0.01, 100, 100)] {
            let ours = Double(try klDivergence(Beta(Tensor(Float(a1)), Tensor(Float(b1))), Beta(Tensor(Float(a2)), Tensor(Float(b2)))).scalar)
            let exact = betaKL(a1, b1, a2, b2)
            XCTAssertEqual(ours, exact, accuracy: 1e-5 * (1 + Swift.abs(exact)) + 5e-5, "KL(Beta(\(a1), \(b1)) || Beta(\(a2), \(b2)))")
        }
        let tape = GradientTape()
        let a = tape.watch(Tensor(3.5)), df = tape.watch(Tensor(4))
        let (h, k) = tape.record { (Beta(a, Tensor(2.5)).entropy(), StudentT(df: df, loc: 0, scale: 1).entropy()) }
        let kl = try tape.record { try klDivergence(Beta(Tensor(2), Tensor(3)), Beta(a, Tensor(1.5))) }
        let step = 1e-4
        XCTAssertEqual(Double(tape.gradient(of: h, withRespectTo: [a])[0].scalar), (beta(3.5 + step, 2.5) - beta(3.5 - step, 2.5)) / (2 * step), accuracy: 1e-5)
        XCTAssertEqual(Double(tape.gradient(of: k, withRespectTo: [df])[0].scalar), (studentT(4 + step, 1) - studentT(4 - step, 1)) / (2 * step), accuracy: 1e-5)
        XCTAssertEqual(Double(tape.gradient(of: kl, withRespectTo: [a])[0].scalar), (betaKL(2, 3, 3.5 + step, 1.5) - betaKL(2, 3, 3.5 - step, 1.5)) / (2 * step), accuracy: 1e-5)
    }
}

/// psi(x) for x > 0 in Double, for reference values: psi(x) = psi(x + n) - sum 1/(x + i), then
/// the asymptotic series of psi beyond 20.
private func digammaReference(_ x: Double) -> Double {
    var (y, shift) = (x, 0.0)
    while y < 20 { (shift, y) = (shift + 1 / y, y + 1) }
    let u = 1 / (y * y)
    return Foundation.log(y) - 0.5 / y - u / 12 + u * u / 120 - u * u * u / 252 - shift
}

extension SupportAndTailTests {
    /// Poisson's entropy at a large rate by the asymptotic series (the sum over the support took
    /// 400 MB at rate 1e8 and stopped the program at 1e9), beside scipy's sum at 60.
    func testPoissonEntropyAtLargeRates() throws {
        let entropy = Poisson(rate: Tensor([60, 1e9])).entropy().scalars
        XCTAssertEqual(Double(entropy[0]), 3.4647101, accuracy: 1e-5)
        XCTAssertEqual(Double(entropy[1]), 11.7805715, accuracy: 1e-5)
        // The series is not evaluated below 50, where its 1/rate^3 would overflow into the
        // gradient, and its log does not overflow at the largest rates.
        let (small, gradients) = try valueWithGradient(at: [Tensor([1e-20, 5])]) { Poisson(rate: $0[0]).entropy().sum() }
        XCTAssertTrue(small.isFinite && gradients[0].isFinite, "\(gradients[0])")
        XCTAssertEqual(Double(Poisson(rate: Tensor(3e37)).entropy().scalar), 44.5665, accuracy: 1e-3)
        // A Dirichlet's concentration needs its category axis.
        XCTAssertThrowsError(try checkingTensorErrors { _ = Dirichlet(Tensor(2)).sample([4]) }) { error in
            XCTAssertEqual("\(error)", "Dirichlet: its concentration is a single number; its last axis holds one concentration per category (Tensor([a1, ..., aK]))")
        }
    }

    /// Dirichlet entropy and KL at large concentrations against scipy in double (log Gamma and
    /// psi): float32 read -11.25 for an entropy of -11.4216 and 0.0337 for a KL of 0.02499.
    func testDirichletEntropyAndKLKeepTheirDigits() throws {
        for (a, exact) in [([1e5, 1e5, 1e5], -11.421584676), ([1e4, 1e4], -4.225977425), ([1000, 2], -5.333038199), ([0.5, 2, 7], -2.893666428)] as [([Float], Double)] {
            XCTAssertEqual(Double(Dirichlet(Tensor(a)).entropy().scalar), exact, accuracy: 1e-5 * (1 + Swift.abs(exact)), "entropy of Dirichlet(\(a))")
        }
        for (a, b, exact) in [([1e5, 1e5], [1e5, 1.001e5], 0.0249876949), ([1e4, 1e4], [1.01e4, 1e4], 0.2487758512), ([1e5, 2e5, 3e5], [1.01e5, 2e5, 2.99e5], 6.6519653990), ([0.5, 2, 7], [1, 1, 1], 2.2005192474)] as [([Float], [Float], Double)] {
            let ours = Double(try klDivergence(Dirichlet(Tensor(a)), Dirichlet(Tensor(b))).scalar)
            XCTAssertEqual(ours, exact, accuracy: 1e-5 * (1 + Swift.abs(exact)) + 5e-5, "KL(Dirichlet(\(a)) || Dirichlet(\(b)))")
        }
        // Gradients in both arguments against central differences of the formula in Double.
        func kl(_ a: [Double], _ b: [Double]) -> Double {
            let (sa, sb) = (a.reduce(0, +), b.reduce(0, +))
            var total = lgamma(sa) - lgamma(sb)
            for k in a.indices { total += lgamma(b[k]) - lgamma(a[k]) + (a[k] - b[k]) * (digammaReference(a[k]) - digammaReference(sa)) }
            return total
        }
        let (a, b) = ([2.0, 3, 0.7], [1.0, 1.5, 2])
        let (_, gradients) = try valueWithGradient(at: [Tensor(a.map(Float.init)), Tensor(b.map(Float.init))]) { try klDivergence(Dirichlet($0[0]), Dirichlet($0[1])) }
        let step = 1e-5
        for k in 0..<3 {
            var (up, down) = (a, a)
            up[k] += step; down[k] -= step
            XCTAssertEqual(Double(gradients[0].scalars[k]), (kl(up, b) - kl(down, b)) / (2 * step), accuracy: 1e-3, "d/da_\(k)")
            var (upB, downB) = (b, b)
            upB[k] += step; downB[k] -= step
            XCTAssertEqual(Double(gradients[1].scalars[k]), (kl(a, upB) - kl(a, downB)) / (2 * step), accuracy: 1e-3, "d/db_\(k)")
        }
    }

    /// Helper-33's silent wrong numbers, against scipy (`stats.*.logpdf`, the closed-form Gamma
    /// KL with `gammaln` and `digamma` in double) and the derivatives by hand: a zero
    /// probability made every gradient of `Categorical(probs:)` NaN; a value listed twice in a
    /// `FiniteDiscrete` summed its logits (-1.122 for -0.094; now refused, since its enumerated
    /// support would count it twice); Gamma KLs with q's parameter far
    /// below p's were inf or off by 0.09; a Gamma log-density past the smallest float ratio
    /// had infinite gradients (or was -inf), a StudentT one past |z| = 1.8e19 was -inf; a
    /// Dirichlet at a = 0.01 drew exact zeros (log-density +inf).
    func testValuesAtTheEdgesOfFloatRange() throws {
        let (value, gradients) = try valueWithGradient(at: [Tensor([1, 0])]) { Categorical(probs: $0[0]).logProb(Tensor(0)) }
        XCTAssertEqual(value.scalar, 0)
        XCTAssertEqual(gradients[0].scalars, [0, -1])
        let oneHot = try valueWithGradient(at: [Tensor([0.5, 0.5, 0])]) { OneHotCategorical(probs: $0[0]).logProb(Tensor([1, 0, 0])) }
        XCTAssertEqual(oneHot.gradients[0].scalars, [1, -1, -1])
        let kl = try valueWithGradient(at: [Tensor([0.5, 0.5, 0])]) { try klDivergence(Categorical(probs: $0[0]), Categorical(probs: Tensor([0.3, 0.3, 0.4]))) }
        XCTAssertEqual(Double(kl.value.scalar), 0.5108256, accuracy: 1e-6)
        XCTAssertTrue(kl.gradients[0].scalars.allSatisfy(\.isFinite), "\(kl.gradients[0].scalars)")
        XCTAssertThrowsError(try checkingTensorErrors { _ = FiniteDiscrete(values: Tensor([0.5, 1.5, 1.5]), logits: Tensor([0, 1, 2])) }) { error in
            XCTAssertEqual("\(error)", "FiniteDiscrete: parameter 'values' must be listed once each, got 1.5 at index [2]")
        }
        for (a1, r1, a2, r2, expected) in [(2, 1e4, 2, 1e-4, 34.841361), (1e5, 1, 1e-3, 1, 100011.23), (1, 1, 1e-7, 1, 15.540880), (16, 454, 16, 1e-3, 192.41367), (1, 1, 1, 1e-5, 10.512925)] as [(Float, Float, Float, Float, Double)] {
            let value = try klDivergence(Gamma(concentration: Tensor(a1), rate: Tensor(r1)), Gamma(concentration: Tensor(a2), rate: Tensor(r2))).scalar
            XCTAssertEqual(Double(value), expected, accuracy: expected * 2e-6, "KL(Gamma(\(a1), \(r1)) || Gamma(\(a2), \(r2)))")
        }
        // d/da = log r + log x - psi(a) = 6.316585 at a = 0.01, r = 0.001, x = 2^-126; d/dr = a/r - x = 10.
        let tiny = try valueWithGradient(at: [Tensor(0.01), Tensor(0.001)]) { Gamma(concentration: $0[0], rate: $0[1]).logProb(Tensor(Float.leastNormalMagnitude)) }
        XCTAssertEqual(Double(tiny.value.scalar), 81.794622, accuracy: 1e-4)
        XCTAssertEqual(Double(tiny.gradients[0].scalar), 6.316585, accuracy: 1e-3)
        XCTAssertEqual(Double(tiny.gradients[1].scalar), 10, accuracy: 1e-4)
        XCTAssertEqual(Double(Gamma(concentration: Tensor(5), rate: Tensor(1e-20)).logProb(Tensor(1e-25)).scalar), -463.69507, accuracy: 1e-3)
        let far = try valueWithGradient(at: [Tensor(1)]) { StudentT(df: $0[0], loc: Tensor(0), scale: Tensor(1)).logProb(Tensor(1e20)) }
        XCTAssertEqual(Double(far.value.scalar), -93.248134, accuracy: 1e-4)
        XCTAssertEqual(Double(far.gradients[0].scalar), -44.858555, accuracy: 1e-3)
        XCTAssertEqual(Double(StudentT(df: Tensor(3), loc: Tensor(0), scale: Tensor(1)).logProb(Tensor(2.5)).scalar), -3.2529114, accuracy: 1e-5)
        var generator = RandomGenerator(seed: 1)
        let dirichlet = Dirichlet(Tensor([0.01, 0.02, 0.05]))
        let draws = dirichlet.rsample([20000], using: &generator)
        XCTAssertFalse(draws.scalars.contains(0))
        XCTAssertTrue(dirichlet.logProb(draws).scalars.allSatisfy(\.isFinite))
    }

    /// Entropies and variances whose intermediate squares overflow or underflow a float, against
    /// scipy: HalfNormal(1e-25)'s entropy read -inf, LogNormal(-60, 9.5)'s variance and
    /// Gamma(1e-10, rate 1e-23)'s inf.
    func testMomentsWithExtremeScalesDoNotOverflow() {
        let entropies = HalfNormal(Tensor([1e-25, 1e20])).entropy().scalars.map(Double.init)
        XCTAssertEqual(entropies[0], -56.8388360, accuracy: 1e-4)
        XCTAssertEqual(entropies[1], 46.7774932, accuracy: 1e-4)
        XCTAssertEqual(Double(LogNormal(Tensor(-60), Tensor(9.5)).variance.scalar) / 1.8828519e26, 1, accuracy: 1e-4)
        XCTAssertEqual(Double(LogNormal(Tensor(0.5), Tensor(0.001)).variance.scalar) / 2.7182859e-6, 1, accuracy: 1e-4)
        XCTAssertEqual(Double(Gamma(concentration: Tensor(1e-10), rate: Tensor(1e-23)).variance.scalar) / 1e36, 1, accuracy: 1e-5)
    }
}

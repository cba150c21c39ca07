import Foundation
import Latent

/// The training settings `latent train` takes from its flags: every setting of `TrainingOptions`
/// and the compiler's per-site choices. The ones given are stored in the checkpoint, so that
/// `--resume` continues with exactly the same settings.
struct TrainingFlags {
    static let flags: [Flag] = [
        .value("epochs", "passes over the training data, 1...100000 (default: the model's)"),
        .value("batch-size", "rows per minibatch, 1...1000000 (default: the model's)"),
        .value("optimizer", "adam, adagrad, rmsprop or sgd (default adam)"),
        .value("lr", "learning rate, 1e-9...10 (default: the model's)"),
        .value("momentum", "momentum of sgd (default 0.9) or rmsprop (default 0), 0...0.999"),
        .toggle("nesterov", "Nesterov's momentum, for sgd or rmsprop"),
        .value("epsilon", "the constant that keeps adam's, adagrad's and rmsprop's steps finite, 1e-12...0.1 (default 1e-8; adagrad 1e-10)"),
        .value("rms-decay", "rmsprop's decay of the squared gradients, 0...0.9999 (default 0.99)"),
        .toggle("epsilon-inside-root", "rmsprop divides by sqrt(s + epsilon) instead of sqrt(s) + epsilon"),
        .value("schedule", "learning-rate schedule: constant, cosine (to 0 over the run), exponential:F (times F each step), step:N:F (times F every N steps) or stages:E1@F1,E2@F2,... (F1 times the rate for E1 epochs, then F2 for E2, ...; the last F after them) (default constant)"),
        .value("clip-norm", "largest joint L2 norm of the gradients, above 0 (default: no clipping)"),
        .value("weight-decay", "L2 penalty on every parameter, the N(0, I) prior on weights, 0...1 (default 0)"),
        .value("beta", "weight of the latent terms: 1 the ELBO, below 1 closer to an autoencoder, above 1 a beta-VAE, 0...1000 (default 1)"),
        .value("warm-up", "epochs over which beta rises from 0 (KL warm-up), 0...100000 (default 0)"),
        .value("particles", "ELBO samples per row (L), 1...1000 (default 1)"),
        .value("iwae", "train on the importance-weighted bound with K samples per row, 1...5000 (default: the ELBO)"),
        .value("point", "latent sites learned as point estimates, comma-separated (with --beta 0: an autoencoder)"),
        .value("estimator", "estimators by site, SITE=reparameterized|analytic-kl|score-function, comma-separated (default: the compiler's choice)"),
        .value("leave-out-class", "with labelled data (an MNIST folder): train without the rows of this class, 0...255 (for anomaly detection)"),
        .value("seed", "random seed, 0...2147483647 (default 0)"),
        .value("binarize", "threshold or stochastic, for binary-image models (default threshold)"),
    ]

    /// The flags whose values a resumed run must keep (all but `--epochs`, the total to reach).
    static var storedNames: [String] { flags.map(\.name).filter { $0 != "epochs" } }

    let arguments: ParsedArguments

    /// The stored flags of this run: name and text of each one given.
    var stored: [String: String] {
        Dictionary(uniqueKeysWithValues: Self.storedNames.compactMap { name in arguments.text(name).map { (name, $0) } })
    }

    /// Refuses flags given now that differ from those of the run being resumed (`stored`) for
    /// `model`. A flag that run left out may be given with its default (`--seed 0`).
    static func checkResumed(given: [String: String], stored: [String: String], model: CommandModel) throws {
        // The same number written another way (1e-3 and 0.001, 0100 and 100) is the same setting.
        func same(_ a: String?, _ b: String?) -> Bool {
            a == b || (a.flatMap(Double.init) != nil && a.flatMap(Double.init) == b.flatMap(Double.init))
        }
        // The training options a set of flags makes (their descriptions compare every field).
        func options(_ values: [String: String]) -> String? {
            guard let arguments = try? ParsedArguments([], command: "train", flags: flags).filling(from: values),
                  let options = try? TrainingFlags(arguments: arguments).options(for: model) else { return nil }
            return "\(options)"
        }
        func isDefault(_ name: String, _ value: String) -> Bool {
            switch name {
            case "binarize": return value == "threshold"
            case "point", "estimator", "leave-out-class": return false
            default: return options(stored) != nil && options(stored) == options(stored.merging([name: value]) { $1 })
            }
        }
        for name in storedNames where given[name] != nil && !same(given[name], stored[name]) {
            if stored[name] == nil, isDefault(name, given[name]!) { continue }
            let before = stored[name].map { $0.isEmpty ? "given" : $0 } ?? "not given"
            throw UsageError("--\(name) \(given[name]!) differs from the run being resumed (\(before)); a resumed run keeps its training settings")
        }
    }

    /// The training options for `model`.
    func options(for model: CommandModel) throws -> TrainingOptions {
        let rate = Float(try arguments.number("lr", default: Double(model.learningRate), in: 1e-9...10))
        var options = TrainingOptions(
            epochs: try arguments.integer("epochs", default: model.epochs, in: 1...100_000),
            batchSize: try arguments.integer("batch-size", default: model.batchSize, in: 1...1_000_000),
            optimizer: try optimizer(rate))
        options.seed = UInt64(try arguments.integer("seed", default: 0, in: 0...Int(Int32.max)))
        options.schedule = try schedule()
        if arguments.has("clip-norm") { options.clipNorm = Float(try arguments.number("clip-norm", default: 1, in: 1e-9...1e9)) }
        options.weightDecay = Float(try arguments.number("weight-decay", default: 0, in: 0...1))
        options.beta = Float(try arguments.number("beta", default: 1, in: 0...1000))
        options.warmUpEpochs = try arguments.integer("warm-up", default: 0, in: 0...100_000)
        options.particles = try arguments.integer("particles", default: 1, in: 1...1000)
        if let k = try arguments.optionalInteger("iwae", in: 1...5000) { options.objective = .importanceWeighted(k: k) }
        return options
    }

    /// `compilerOptions` with the sites named by `--point` and `--estimator`.
    func compilerOptions(_ compilerOptions: CompilerOptions) throws -> CompilerOptions {
        var result = compilerOptions
        for name in ["point", "estimator"] where arguments.has(name) && list(name).isEmpty {
            throw UsageError("flag '--\(name)' of 'train' names no site")
        }
        for site in list("point") {
            guard result.pointEstimates.insert(site).inserted else { throw UsageError("flag '--point' of 'train' names site '\(site)' twice") }
        }
        var named: Set<String> = []
        for entry in list("estimator") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            let names: [String: Estimator] = ["reparameterized": .reparameterized, "analytic-kl": .analyticKL, "score-function": .scoreFunction]
            guard parts.count == 2, !parts[0].isEmpty, let estimator = names[parts[1]] else {
                throw UsageError("flag '--estimator' of 'train' needs SITE=reparameterized|analytic-kl|score-function, got '\(entry)'")
            }
            guard named.insert(parts[0]).inserted else { throw UsageError("flag '--estimator' of 'train' names site '\(parts[0])' twice") }
            result.estimators[parts[0]] = estimator
        }
        return result
    }

    func optimizer(_ rate: Float) throws -> OptimizerChoice {
        let name = try arguments.choice("optimizer", ["adam", "adagrad", "rmsprop", "sgd"], default: "adam")
        let accepted = ["adam": ["epsilon"], "adagrad": ["epsilon"], "rmsprop": ["epsilon", "rms-decay", "epsilon-inside-root", "momentum", "nesterov"], "sgd": ["momentum", "nesterov"]]
        if let given = ["momentum", "nesterov", "epsilon", "rms-decay", "epsilon-inside-root"].first(where: { arguments.has($0) && !accepted[name]!.contains($0) }) {
            throw UsageError("flag '--\(given)' of 'train' does not apply to --optimizer \(name)")
        }
        func epsilon(_ fallback: Double) throws -> Float { Float(try arguments.number("epsilon", default: fallback, in: 1e-12...0.1)) }
        let momentum = { (fallback: Double) in Float(try arguments.number("momentum", default: fallback, in: 0...0.999)) }
        switch name {
        case "adagrad": return .adagrad(learningRate: rate, epsilon: try epsilon(1e-10))
        case "rmsprop":
            if arguments.has("nesterov"), try momentum(0) == 0 { throw UsageError("flag '--nesterov' of 'train' needs --momentum above 0 (rmsprop's is 0 unless given)") }
            return .rmsprop(learningRate: rate, alpha: Float(try arguments.number("rms-decay", default: 0.99, in: 0...0.9999)), epsilon: try epsilon(1e-8),
                            epsilonInsideRoot: arguments.has("epsilon-inside-root"), momentum: try momentum(0), nesterov: arguments.has("nesterov"))
        case "sgd":
            if arguments.has("nesterov"), try momentum(0.9) == 0 { throw UsageError("flag '--nesterov' of 'train' needs --momentum above 0") }
            return .sgd(learningRate: rate, momentum: try momentum(0.9), nesterov: arguments.has("nesterov"))
        default: return .adam(learningRate: rate, epsilon: try epsilon(1e-8))
        }
    }

    func schedule() throws -> LearningRateSchedule {
        guard let text = arguments.text("schedule") else { return .constant }
        let parts = text.split(separator: ":").map(String.init)
        func fail() -> UsageError {
            UsageError("flag '--schedule' of 'train' needs constant, cosine, exponential:F (0 < F <= 1), step:N:F (N >= 1, 0 < F <= 1) or stages:E1@F1,E2@F2,... (1 <= E <= 100000 epochs, 0 < F <= 1), got '\(text)'")
        }
        func factor(_ text: String) throws -> Float {
            guard let value = Float(text), value > 0, value <= 1 else { throw fail() }
            return value
        }
        switch (parts.first, parts.count) {
        case ("constant", 1): return .constant
        case ("cosine", 1): return .cosine(steps: 0)
        case ("exponential", 2): return .exponential(factor: try factor(parts[1]))
        case ("step", 3):
            guard let every = Int(parts[1]), every >= 1 else { throw fail() }
            return .step(every: every, factor: try factor(parts[2]))
        case ("stages", 2):
            // In epochs here; `Train` turns them into steps once it knows the minibatches per epoch.
            return .stages(try parts[1].split(separator: ",", omittingEmptySubsequences: false).map { stage in
                let pair = stage.split(separator: "@", omittingEmptySubsequences: false).map(String.init)
                guard pair.count == 2, let epochs = Int(pair[0]), (1...100_000).contains(epochs) else { throw fail() }
                return LearningRateSchedule.Stage(steps: epochs, multiplier: try factor(pair[1]))
            })
        default: throw fail()
        }
    }

    /// The values of a comma-separated flag.
    func list(_ name: String) -> [String] {
        (arguments.text(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

import Foundation
import Latent

/// A trained model restored from its checkpoint.
struct Restored {
    let model: CommandModel
    let settings: ModelSettings
    let inference: Amortized<Tensor>
    let checkpoint: Checkpoint
    /// The training flags the checkpoint was written with.
    let trainingFlags: [String: String]
    let compilerOptions: CompilerOptions

    init(_ path: String, models: Models) throws {
        checkpoint = try Checkpoint.read(from: path)
        guard let name = checkpoint.metadata["model"], let model = models.all.first(where: { $0.name == name }) else {
            throw CheckpointError.mismatch(path: path, reason: "it names model '\(checkpoint.metadata["model"] ?? "?")', which this tool does not have (it has \(models.all.map(\.name).joined(separator: ", ")))")
        }
        let settings = try storedSettings(checkpoint, path: path, model: model)
        self.model = model
        self.settings = settings
        // The guide as trained: `--point` and `--estimator` change its families and estimators.
        trainingFlags = try storedTrainingFlags(checkpoint, path: path)
        let flags = TrainingFlags(arguments: try ParsedArguments([], command: "train", flags: TrainingFlags.flags).filling(from: trainingFlags))
        compilerOptions = try flags.compilerOptions(model.compilerOptions(settings))
        inference = Amortized(model.build(settings), options: compilerOptions)
    }

    /// Compiles the model on `rows` and loads the stored tensors. The rows are a few of those
    /// the command will run on (rows of zeros for the commands that draw pictures): a model
    /// whose likelihood needs its data in a support (counts over an exposure, positive
    /// values) cannot be compiled on zeros.
    func compile(on rows: Tensor) throws {
        // The stored tensors stand in for the initial values, so that settings which do not
        // match them cannot make the model allocate anything large before the check.
        for (name, value) in checkpoint.modelParameters { inference.parameters.setUnconstrained(name, value) }
        for (name, value) in checkpoint.guideParameters { inference.guideParameters.setUnconstrained(name, value) }
        inference.parameters.createsMissingParameters = false
        inference.guideParameters.createsMissingParameters = false
        let example = rows.slice(axis: 0, 0..<Swift.min(2, rows.shape[0]))
        do {
            try inference.compile(example: example, datasetSize: example.shape[0])
        } catch {
            // A stored tensor of another shape (the model file changed since, say): the model
            // compiled with its own initial values names it. (Not for a tensor the checkpoint
            // lacks, whose settings may ask for more than the checkpoint ever held.) When the
            // model fails on these rows with its own values too, the rows are at fault, not
            // the checkpoint, and the model's own error says why.
            if case ModelError.missingParameter = error {} else {
                let fresh = Amortized(model.build(settings), options: compilerOptions)
                guard (try? fresh.compile(example: example, datasetSize: example.shape[0])) != nil else { throw error }
                try fresh.loadParameters(from: checkpoint, path: checkpoint.source)
            }
            throw CheckpointError.mismatch(path: checkpoint.source, reason: "its tensors do not fit its model settings (\(error))")
        }
        try inference.loadParameters(from: checkpoint, path: checkpoint.source)
    }

    /// Rows of zeros, the width of the model's rows: what the commands that draw pictures
    /// compile on.
    var zeroRows: Tensor { Tensor.zeros([2, settings.dataSize]) }

    /// Why scores that are not finite may not be the data's fault: a stored parameter of a size
    /// that training does not reach (beyond 1e15, unconstrained), which a damaged checkpoint
    /// with a valid checksum can hold; empty when there is none.
    var damageNote: String {
        for (kind, tensors) in [("model", checkpoint.modelParameters), ("guide", checkpoint.guideParameters)] {
            for (name, value) in tensors.sorted(by: { $0.key < $1.key }) {
                if let huge = value.uncountedScalars.first(where: { Swift.abs($0) > 1e15 }) {
                    return ", or the checkpoint is damaged: its \(kind) parameter '\(name)' holds \(huge), far beyond what training reaches"
                }
            }
        }
        return ""
    }

    /// Height and width of the images the model was trained on; an error for rows that are not
    /// images (a CSV file, say), which have no pictures to draw.
    func imageShape() throws -> [Int] {
        let parts = (checkpoint.metadata["image shape"] ?? "").split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 > 0 }), parts[0].multipliedReportingOverflow(by: parts[1]) == (settings.dataSize, false) else {
            throw UsageError("'\(model.name)' in this checkpoint was trained on rows that are not images (\(checkpoint.metadata["data"] ?? "unknown data")); pictures need image data")
        }
        return parts
    }

    /// The data of `--data`, or the data the model was trained on; images of a binary-image
    /// model thresholded, unless `stochastic` (the caller binarizes by one fixed draw the rows
    /// it uses, as Burda et al. (2015) binarize their test set). From a CSV file, the columns
    /// the model was trained on are taken by name; other files must have as many numbers a row.
    func data(_ path: String?, stochastic: Bool = false) throws -> Dataset {
        let source = try path ?? trainedDataPath(checkpoint)
        let columns = checkpoint.metadata["columns"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        if let columns, checkpoint.metadata["columns chosen"] != nil, let source, !Dataset.isCSV(source) {
            // Columns chosen by name may be in another order than the file's, or a few of many.
            throw UsageError("the model was trained on the CSV columns \(columns.joined(separator: ",")), chosen by name (--columns); \(source) has no column names to find them by; give the data as a CSV file with those columns")
        }
        var data = try loadData(source, for: model, columns: source.map(Dataset.isCSV) == true ? columns : nil)
        if model.data == .binaryImages, !stochastic { data = data.thresholded() }
        let width = data.test.rowSize
        guard width == settings.dataSize else {
            throw UsageError("the data have \(width) numbers per row; the model was trained on \(settings.dataSize)")
        }
        return data
    }

    /// The test rows of `--data`, or of the data the model was trained on.
    func testData(_ path: String?) throws -> Tensor { try data(path).test.tensor() }

    /// `path`, which `flag` names for the command's output, checked by `outputFile` against the
    /// checkpoint and the data the command reads (`dataPath`, or the data trained on).
    func output(_ path: String, flag: String, data dataPath: String?) throws -> String {
        try outputFile(path, flag: flag, reading: [checkpoint.source, try dataPath ?? trainedDataPath(checkpoint)])
    }
}

/// The file or folder a checkpoint's model was trained on, nil for the bundled data. A run's data
/// that is no longer where it was is an error, never a silent switch to other data.
func trainedDataPath(_ checkpoint: Checkpoint) throws -> String? {
    guard let path = checkpoint.metadata["data path"] else {
        return checkpoint.metadata["data"].flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
    }
    guard FileManager.default.fileExists(atPath: path) else {
        throw UsageError("the data this model was trained on, \(path), is not there any more; give --data")
    }
    return path
}

/// The training flags a checkpoint was written with (none for a checkpoint written without).
func storedTrainingFlags(_ checkpoint: Checkpoint, path: String) throws -> [String: String] {
    guard let text = checkpoint.metadata["training flags"] else { return [:] }
    guard let stored = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)),
          stored.keys.allSatisfy(TrainingFlags.storedNames.contains) else {
        throw CheckpointError.corrupt(path: path, reason: "its training flags are unreadable")
    }
    return stored
}

/// The model settings a checkpoint was written with, checked against the model's options.
func storedSettings(_ checkpoint: Checkpoint, path: String, model: CommandModel) throws -> ModelSettings {
    guard let text = checkpoint.metadata["settings"], let settings = try? JSONDecoder().decode(ModelSettings.self, from: Data(text.utf8)) else {
        throw CheckpointError.mismatch(path: path, reason: "it has no model settings")
    }
    if let problem = settings.firstProblem(for: model) { throw CheckpointError.mismatch(path: path, reason: "stored settings: \(problem)") }
    return settings
}

/// `latent eval CHECKPOINT`: test ELBO and importance-sampled log p(x).
struct Evaluate: Subcommand {
    static let name = "eval"
    static let summary = "held-out ELBO and importance-sampled log-likelihood of a trained model"
    static let flags: [Flag] = [
        .value("data", "data to evaluate on (default: the training data's test rows)"),
        .value("iwae", "importance samples per row, 1...100000 (default 100); the ELBO averages min(K, 100) draws"),
        .value("rows", "rows to use, from the first, 1 to the rows there are (default all)"),
        .value("split", "test (the held-out rows, default) or all (every row of the data, in file order)"),
        .value("binarize", "for binary-image models: threshold (pixel > 0.5) or stochastic (each pixel drawn once with its grey level as probability, seed 0); default: as the model was trained"),
        .value("per-example", "write each row's -log p(x) and -log reconstruction probability (anomaly scores) to this CSV file, rows numbered as in the data file from 0"),
        .value("anomaly-class", "with labelled data (an MNIST folder): the ROC AUC of both anomaly scores for telling this class from the others, 0...255"),
        .value("threads", "threads for the kernels, 1...256 (default: all cores); results do not depend on it"),
    ]
    static let positionals = ["CHECKPOINT"]
    static let usage = "Usage: latent eval CHECKPOINT [--data PATH] [--split test|all] [--iwae K] [--rows N] [--binarize threshold|stochastic] [--per-example FILE.csv] [--anomaly-class C] [--threads N] [--json]"

    let arguments: ParsedArguments
    let models: Models

    func run(output: Output) throws -> [String: Any] {
        ComputeThreads.count = try arguments.integer("threads", default: ComputeThreads.count, in: 1...256)
        let restored = try Restored(arguments.positional[0], models: models)
        let perExample = try arguments.text("per-example").map { try restored.output($0, flag: "per-example", data: arguments.text("data")) }
        // Scored as trained, unless told otherwise.
        let trained = restored.trainingFlags["binarize"] ?? "threshold"
        let stochastic = try arguments.choice("binarize", ["threshold", "stochastic"], default: trained) == "stochastic"
        if arguments.has("binarize"), restored.model.data != .binaryImages {
            throw UsageError("--binarize applies to binary-image models; '\(restored.model.name)' is trained on \(restored.model.data == .images ? "grey-level images" : "rows of numbers")")
        }
        let data = try restored.data(arguments.text("data"), stochastic: stochastic)
        let split = try arguments.choice("split", ["test", "all"], default: "test")
        var test = split == "all" ? try data.allRows() : try data.test.tensor()
        let fileRows = split == "all" ? Array(0..<test.shape[0]) : data.testRows
        let rows = try arguments.integer("rows", default: test.shape[0], in: 1...test.shape[0])
        test = test.slice(axis: 0, 0..<rows)
        if stochastic, restored.model.data == .binaryImages { test = Binarization.fixedDraw(test) }
        try restored.compile(on: test)
        let k = try arguments.integer("iwae", default: 100, in: 1...100_000)
        // Checked before the scoring, which can take minutes.
        let anomalyClass = try arguments.optionalInteger("anomaly-class", in: 0...255)
        let labels = split == "all" ? data.allLabels : data.testLabels
        if anomalyClass != nil, labels == nil { throw UsageError("--anomaly-class needs labelled data: an MNIST folder with its label files") }
        if let point = restored.inference.plan?.sites.first(where: { $0.family == "Delta" }) {
            return try evaluatePointEstimate(restored, test, split: split, point: point, output: output)
        }
        if let global = restored.inference.plan?.sites.first(where: { $0.plate == nil && $0.isGuided }) {
            return try evaluateTogether(restored, test, k: k, split: split, global: global, output: output)
        }
        var elbo: Double = 0, logLikelihood: [Float] = []
        let chunk = 200
        let progress = WorkProgress("scoring rows (k = \(k))", total: rows)
        for start in stride(from: 0, to: rows, by: chunk) {
            let batch = test.slice(axis: 0, start..<Swift.min(start + chunk, rows))
            // Draws of their own for each chunk: with one seed, row i and row i + 200 shared
            // their noise, and the errors of the averages did not shrink with the rows.
            let seed = UInt64(start / chunk)
            elbo += Double(try restored.inference.elbo(batch, datasetSize: batch.shape[0], particles: Swift.min(k, 100), seed: seed))
            logLikelihood += try restored.inference.importanceSampledLogLikelihood(batch, samples: k, seed: seed).scalars
            progress.update(logLikelihood.count)
        }
        progress.finish()
        if let row = logLikelihood.firstIndex(where: { !$0.isFinite }) {
            throw UsageError("row \(fileRows[row]) of \(data.source): log p(x) is \(logLikelihood[row]) under this model (k = \(k)); its values may lie far outside those it was trained on\(restored.damageNote)")
        }
        let meanLogLikelihood = logLikelihood.map(Double.init).reduce(0, +) / Double(rows)
        let drawsEveryLatent = restored.inference.plan?.sites.allSatisfy { $0.estimator != .enumerated && $0.estimator != .marginalized } ?? false
        let reconstruction = drawsEveryLatent && (anomalyClass != nil || arguments.has("per-example"))
            ? try restored.inference.reconstructionLogProbability(test).scalars : nil
        if let path = perExample {
            let header = "row,negative_log_likelihood" + (reconstruction == nil ? "" : ",negative_log_reconstruction_probability")
            let lines = [header] + logLikelihood.indices.map { row in
                "\(fileRows[row]),\(-logLikelihood[row])" + (reconstruction.map { ",\(-$0[row])" } ?? "")
            }
            try writeText(lines.joined(separator: "\n").appending("\n"), to: path)
        }
        let which = split == "all" ? "all rows" : "held-out rows"
        output.human(String(format: "ELBO %.2f, log p(x) %.2f (k = %d) per row over %d %@", elbo / Double(rows), meanLogLikelihood, k, rows, which))
        var figures: [String: Any] = [split == "all" ? "elbo" : "test_elbo": elbo / Double(rows), "log_likelihood": meanLogLikelihood, "k": k, "rows": rows, "split": split]
        if let anomalyClass, let labels {
            let positives = labels.prefix(rows).map { $0 == anomalyClass }
            guard let byLikelihood = areaUnderROC(scores: logLikelihood.map { -Double($0) }, positives: positives) else {
                throw UsageError("the \(rows) rows scored need both class \(anomalyClass) and other classes for an ROC curve")
            }
            figures["anomaly_class"] = anomalyClass
            figures["auc_log_likelihood"] = byLikelihood
            var line = String(format: "class %d as the anomaly (%d of %d rows): ROC AUC %.4f by -log p(x)", anomalyClass, positives.filter { $0 }.count, rows, byLikelihood)
            if let reconstruction, let byReconstruction = areaUnderROC(scores: reconstruction.map { -Double($0) }, positives: positives) {
                figures["auc_reconstruction_probability"] = byReconstruction
                line += String(format: ", %.4f by the reconstruction probability", byReconstruction)
            }
            output.human(line)
        }
        return figures
    }

    /// A model trained with a point estimate (`--point`): its guide has no density, so there is no
    /// ELBO or importance-sampled log p(x), only the objective of training's held-out figure
    /// (log p(x, z) at the point), per row.
    func evaluatePointEstimate(_ restored: Restored, _ rows: Tensor, split: String, point: GuideSite, output: Output) throws -> [String: Any] {
        if let flag = ["iwae", "per-example", "anomaly-class"].first(where: arguments.has) {
            throw UsageError("--\(flag) needs log p(x), but site '\(point.name)' at \(point.location) was learned as a point estimate, which has no density to weigh draws by")
        }
        let count = rows.shape[0]
        var total: Double = 0
        for start in stride(from: 0, to: count, by: 200) {
            let batch = rows.slice(axis: 0, start..<Swift.min(start + 200, count))
            total += Double(try restored.inference.elbo(batch, datasetSize: batch.shape[0]))
        }
        let objective = total / Double(count)
        guard objective.isFinite else { throw UsageError("the objective of the \(count) rows is \(objective) under this model; their values may lie far outside those it was trained on\(restored.damageNote)") }
        output.human(String(format: "objective %.2f per row over %d %@ (log p(x, z) at the point estimate of '%@'; log p(x) is not defined for a point estimate)", objective, count, split == "all" ? "rows" : "held-out rows", point.name))
        return [split == "all" ? "objective" : "test_objective": objective, "rows": count, "split": split]
    }

    /// A model with a global latent: log p(x) of the rows does not split into one term per row,
    /// so the ELBO and importance-sampled log p(x) are of all the rows together (each draw of
    /// the guide covers the global latents once), reported per row.
    func evaluateTogether(_ restored: Restored, _ rows: Tensor, k: Int, split: String, global: GuideSite, output: Output) throws -> [String: Any] {
        if let flag = ["per-example", "anomaly-class"].first(where: arguments.has) {
            throw UsageError("--\(flag) needs a score per row, but site '\(global.name)' at \(global.location) is global, so log p(x) does not split into one term per row")
        }
        let count = rows.shape[0]
        let elbo = Double(try restored.inference.elbo(rows, datasetSize: count, particles: Swift.min(k, 100))) / Double(count)
        let estimate = try restored.inference.importanceSampledEstimate(rows, samples: k)
        let logLikelihood = Double(estimate.logLikelihood) / Double(count)
        guard logLikelihood.isFinite else {
            throw UsageError("log p(x) of the \(count) rows is \(logLikelihood) under this model (k = \(k)); their values may lie far outside those it was trained on\(restored.damageNote)")
        }
        output.human(String(format: "ELBO %.2f, log p(x) %.2f (k = %d, of the rows together: '%@' is global) per row over %d %@", elbo, logLikelihood, k, global.name, count, split == "all" ? "rows" : "held-out rows"))
        // The guide of a global site was fitted to the training rows; on other rows it may be a
        // narrow proposal, and few draws then carry the estimate.
        output.human(String(format: "effective sample size %.1f of %d draws%@", estimate.effectiveSampleSize, k, estimate.effectiveSampleSize < Double(k) / 10 ? ": few draws carry the estimate, which is then likely low; raise --iwae" : ""))
        return [split == "all" ? "elbo" : "test_elbo": elbo, "log_likelihood": logLikelihood, "k": k, "rows": count, "split": split, "effective_sample_size": estimate.effectiveSampleSize]
    }
}

import Foundation
import Latent

/// `latent train MODEL`: AEVB training, writing a checkpoint and a metrics log.
struct Train: Subcommand {
    static let name = "train"
    static let summary = "train a model by amortized variational inference (AEVB)"
    static let flags: [Flag] = [
        .value("data", "a folder of MNIST IDX files, or a .csv or .npy file (default: the model's bundled data)"),
        .value("columns", "the columns of a CSV file to use, comma-separated (default: its numeric columns)"),
        .value("out", "folder for the checkpoint, metrics, pictures and report (default runs/MODEL)"),
        .toggle("resume", "continue the run in --out from its checkpoint, with its settings, to --epochs in all"),
        .value("threads", "threads for the kernels, 1...256 (default: all cores); results do not depend on it"),
    ] + TrainingFlags.flags
    static let positionals = ["MODEL"]
    static let takesModelOptions = true
    static let usage = """
        Usage: latent train MODEL [--data PATH] [--out DIR] [--resume] [training options] [the model's options] [--json]

        Trains MODEL (see `latent models`) by AEVB and writes DIR/checkpoint.latent (after each
        epoch), DIR/metrics.jsonl, DIR/elbo.svg, pictures for image models and DIR/report.html.
        With --resume, continues the run in DIR from its checkpoint (same model, data and
        training settings) until --epochs epochs in all, exactly as if it had not stopped.
        """

    let model: CommandModel
    let arguments: ParsedArguments

    init(arguments: ParsedArguments, models: Models) throws {
        model = try models.named(arguments.positional[0])
        self.arguments = arguments
        _ = try TrainingFlags(arguments: arguments).options(for: model)
        _ = try arguments.choice("binarize", ["threshold", "stochastic"], default: "threshold")
        if arguments.has("binarize"), model.data != .binaryImages {
            throw UsageError("--binarize applies to binary-image models; '\(model.name)' is trained on \(model.data == .images ? "grey-level images" : "rows of numbers")")
        }
    }

    func run(output: Output) throws -> [String: Any] {
        let job = DataParallelJob.current
        let writes = (job?.rank ?? 0) == 0
        let threads = try arguments.integer("threads", default: Swift.max(1, ComputeThreads.count / DataParallelJob.processesOnThisMachine), in: 1...256)
        for option in model.options { _ = try arguments.optionalInteger(option.name, in: option.range) }
        let outPath = arguments.text("out") ?? "runs/\(model.name)"
        let resume = arguments.has("resume") ? try resumedRun(outPath) : nil
        let arguments = resume.map { self.arguments.filling(from: $0.trainingFlags) } ?? self.arguments
        let flags = TrainingFlags(arguments: arguments)
        var options = try flags.options(for: model)
        // Without --epochs a resumed run goes on to the epochs it planned, not the model's default.
        if let planned = resume?.checkpoint.metadata["planned epochs"].flatMap({ Int($0) }), !arguments.has("epochs") { options.epochs = planned }
        if let done = resume.flatMap({ Int($0.checkpoint.metadata["epoch"] ?? "") }), done > options.epochs {
            throw UsageError("the run in \(outPath) has already done \(done) epochs, more than the \(options.epochs) asked for; ask for more with --epochs")
        }
        let binarization = Binarization(rawValue: try arguments.choice("binarize", ["threshold", "stochastic"], default: "threshold"))!
        ComputeThreads.count = threads

        let dataPath = arguments.text("data") ?? resume?.dataPath
        let columns = columnList(arguments.text("columns")) ?? resume?.columns
        var data = try loadData(dataPath, for: model, columns: columns, output: output)
        if model.data == .binaryImages {
            switch binarization {
            case .threshold:
                data.train = data.train.thresholded()
                data.test = data.test.thresholded()
            case .stochastic:
                // Held out as `latent eval --binarize stochastic` scores it: drawn over all the test
                // rows, before any class is left out.
                data.test = DataRows(Binarization.fixedDraw(try data.test.tensor()))
            }
        }
        if let label = try arguments.optionalInteger("leave-out-class", in: 0...255) { data = try data.leavingOut(class: label) }
        let dataSize = data.train.rowSize
        var settings = try model.settings(dataSize: dataSize, of: data.source, from: arguments)
        if let resume {
            for option in model.options where arguments.has(option.name) && settings[option.name] != resume.settings[option.name] {
                throw UsageError("--\(option.name) \(settings[option.name]) differs from the run being resumed (\(resume.settings[option.name])); a resumed run keeps its model")
            }
            guard resume.settings.dataSize == dataSize else {
                throw UsageError("the data have \(dataSize) numbers per row; the run being resumed was trained on \(resume.settings.dataSize)")
            }
            // A checkpoint with its rows' fingerprint takes the same rows from wherever they are now.
            if let given = self.arguments.text("data"), URL(fileURLWithPath: given).standardizedFileURL.path != resume.dataPath,
               resume.checkpoint.metadata["data fingerprint"] == nil {
                throw UsageError("--data \(given) differs from the data of the run being resumed (\(resume.dataPath ?? "the bundled data")); a resumed run keeps its data")
            }
            if let given = columnList(self.arguments.text("columns")), given != resume.columns {
                throw UsageError("--columns \(given.joined(separator: ",")) differs from the columns of the run being resumed (\(resume.columns?.joined(separator: ",") ?? "none chosen")); a resumed run keeps its data")
            }
            if let stored = resume.checkpoint.metadata["training rows"], stored != String(data.train.rowCount) {
                throw UsageError("the data have \(data.train.rowCount) training rows; the run being resumed was trained on \(stored), so the data changed since")
            }
            settings = resume.settings
        }

        let batchesPerEpoch = (data.train.rowCount + options.batchSize - 1) / options.batchSize
        switch options.schedule {
        case .cosine: options.schedule = .cosine(steps: options.epochs * batchesPerEpoch)
        case let .stages(stages):
            options.schedule = .stages(stages.map { stage in
                let (steps, overflow) = stage.steps.multipliedReportingOverflow(by: batchesPerEpoch)
                return .init(steps: overflow ? .max : steps, multiplier: stage.multiplier)
            })
        default: break
        }
        if let job, job.size > 1 { options.communicator = job }
        let transform: ((Tensor, inout RandomGenerator) -> Tensor)? = model.data == .binaryImages && binarization == .stochastic
            ? { batch, generator in Binarization.stochastic.apply(batch, using: &generator) } : nil
        let compilerOptions = try flags.compilerOptions(model.compilerOptions(settings))
        let objective = ReportedObjective(options: options, compilerOptions: compilerOptions)
        let vi = Amortized(model.build(settings), options: compilerOptions, seed: options.seed)
        guard writes else {
            // Another process of an MPI job: it trains its share and leaves the writing to process 0.
            let reports = try placingBadRows(in: data) { try vi.fit(data.train, heldOut: data.test, options: options, resume: resume?.checkpoint, transform: transform) }
            return ["rank": job?.rank ?? 0, "epochs_this_run": reports.count]
        }
        let folder = try OutputFolder(outPath)
        let checkpointPath = folder.file("checkpoint.latent")
        let metricsPath = folder.file("metrics.jsonl")
        options.metricsPath = metricsPath
        options.checkpointPath = checkpointPath
        options.checkpointMetadata = ["settings": try sortedJSON(settings), "data": data.source, "training rows": String(data.train.rowCount), "training flags": try sortedJSON(flags.stored), "planned epochs": String(options.epochs)]
        if let imageShape = data.imageShape { options.checkpointMetadata["image shape"] = imageShape.map(String.init).joined(separator: "x") }
        if let names = data.columns { options.checkpointMetadata["columns"] = try sortedJSON(names) }
        // Columns chosen by name (not all of the file's, in its order) can be found only by name.
        if arguments.text("columns") != nil || resume?.checkpoint.metadata["columns chosen"] != nil { options.checkpointMetadata["columns chosen"] = "yes" }
        if let dataPath { options.checkpointMetadata["data path"] = URL(fileURLWithPath: dataPath).standardizedFileURL.path }
        ProgressPrinter(objective: objective).attach(to: &options)
        // The note follows the plan, so that a model the compiler refuses prints no note first.
        options.onPlan = { plan in
            output.human(plan.description)
            if let note = objective.note { output.human(note) }
        }
        if case .cosine = options.schedule, let planned = resume?.checkpoint.metadata["planned epochs"], planned != String(options.epochs) {
            output.human("note: the cosine schedule now runs over \(options.epochs) epochs in all; the run being resumed planned it over \(planned), so its rate takes the longer curve from here")
        }
        // A fresh run keeps the files of the run it replaces, and puts them back if it fails
        // before writing its own.
        for stranded in folder.strandedRuns() {
            output.human("note: \(stranded) holds a run set aside by a run of this folder that was stopped before it finished; move it back to \(folder.previous) or elsewhere to keep it")
        }
        let stoppedRun = resume == nil ? folder.filesOfAStoppedRun() : []
        if !stoppedRun.isEmpty {
            output.human("note: \(outPath) holds \(stoppedRun.joined(separator: ", ")) of a run stopped before its first checkpoint, which this run writes over; the run before it stays in \(folder.previous)")
        }
        let setAside = resume == nil && stoppedRun.isEmpty ? try folder.setAsidePreviousRun() : nil
        if setAside != nil { output.human("\(outPath) holds an earlier run: its files are kept in \(folder.previous)") }
        let start = Date()
        let reports: [EpochReport]
        do {
            reports = try placingBadRows(in: data) { try vi.fit(data.train, heldOut: data.test, options: options, resume: resume?.checkpoint, transform: transform) }
        } catch {
            if let setAside {
                if FileManager.default.fileExists(atPath: checkpointPath) { folder.dropOlderRun() } else { folder.restore(setAside, replacingFreshFiles: true) }
            }
            throw error
        }
        if setAside != nil { folder.dropOlderRun() }
        // A resumed run draws every epoch of the run: the metrics log holds the earlier ones (and
        // may hold a line past the checkpoint, written before a stop).
        let logged = EpochReport.log(at: metricsPath).filter { $0.epoch <= options.epochs }
        // A run already done is drawn again (its pictures or report may not have been written).
        let drawn = reports.isEmpty ? logged : reports
        guard let last = drawn.last, last.epoch == options.epochs else {
            throw UsageError("the run in \(outPath) is at epoch \(options.epochs), but its metrics log does not hold that epoch; ask for more with --epochs")
        }
        if reports.isEmpty { output.human("note: the run in \(outPath) has already done \(options.epochs) epochs: its chart, pictures and report are written again (ask for more epochs with --epochs)") }
        let seconds = Date().timeIntervalSince(start)
        let perEpoch = drawn.map(\.seconds).sorted()[drawn.count / 2]
        var written = [checkpointPath, metricsPath]
        let chartPath = folder.file("elbo.svg")
        let history = resume != nil && logged.last?.epoch == last.epoch ? logged : reports
        let chart = elboChart(history, model: model.name, objective: objective)
        try writeText(chart, to: chartPath)
        written.append(chartPath)
        var pictures: [(title: String, file: String, image: PNGImage)] = []
        if let imageShape = data.imageShape {
            let drawer = Pictures(inference: vi, dataSize: dataSize, imageShape: imageShape, invert: model.data == .binaryImages)
            pictures.append(("Samples from the model", "samples.png", try drawer.samples(64, seed: options.seed)))
            let shown = try data.test.rows(0..<Swift.min(12, data.test.rowCount))
            pictures.append(("Held-out images (top) and their reconstructions (bottom)", "reconstructions.png", try drawer.reconstructions(shown)))
            let guided = vi.plan?.sites.filter(\.isGuided) ?? []
            if guided.count == 1, guided[0].valueShape == [2], guided[0].family == "Normal" {
                pictures.append(("The decoder's means over the 2-D latent space (Normal quantiles)", "manifold.png", try drawer.manifold(side: 20)))
            }
        }
        for picture in pictures {
            try picture.image.write(to: folder.file(picture.file))
            written.append(folder.file(picture.file))
        }
        let activityRows = try data.test.rows(0..<Swift.min(1_000, data.test.rowCount))
        let report = RunReport(
            model: model, settings: reportSettings(settings, given: flags.stored, data: data, last: last, perEpoch: perEpoch, objective: objective), plan: vi.plan?.description ?? "",
            elboChart: chart, activity: activityRows.shape[0] >= 2 ? try vi.latentActivity(activityRows) : [], pictures: pictures.map { ($0.title, $0.image) })
        let reportPath = folder.file("report.html")
        try writeText(report.html(), to: reportPath)
        written.append(reportPath)
        output.human("wrote " + written.joined(separator: ", "))
        if let job, job.size > 1 {
            output.human(String(format: "%d processes: %.2f s of %.2f s in the all-reduce of gradients (%.0f%%)", job.size, job.secondsInSum, seconds, 100 * job.secondsInSum / Swift.max(seconds, 1e-9)))
        }
        let peakMemory = peakResidentBytes()
        output.human(String(format: "peak memory %.0f MB (the training rows %@)", Double(peakMemory) / 1e6, data.train.isOnDisk ? "stay on disk, read a minibatch at a time" : "are in memory"))
        return ["model": model.name, "peak_memory_bytes": peakMemory, "processes": job?.size ?? 1, "allreduce_seconds": job?.secondsInSum ?? 0, "train_elbo": Double(last.trainELBO), "objective": objective.name(epoch: last.epoch), "test_elbo": Double(last.heldOutELBO ?? .nan), "epochs": last.epoch, "epochs_this_run": reports.count,
                "seconds": seconds, "seconds_per_epoch": perEpoch, "images_per_second": Double(data.train.rowCount) / perEpoch,
                "checkpoint": checkpointPath, "files": written]
    }

    /// The settings and results the report lists: the data, the model's options, the training
    /// flags given (the others at their defaults) and the final figures.
    func reportSettings(_ settings: ModelSettings, given: [String: String], data: Dataset, last: EpochReport, perEpoch: Double, objective: ReportedObjective) -> [(String, String)] {
        var rows: [(String, String)] = [("data", "\(data.source): \(data.train.rowCount) training rows, \(data.test.rowCount) held out, \(settings.dataSize) numbers per row")]
        rows += model.options.map { ("--\($0.name)", "\(settings[$0.name])") }
        rows += given.keys.sorted().map { ("--\($0)", given[$0]!.isEmpty ? "yes" : given[$0]!) }
        rows += [("epochs", "\(last.epoch)"),
                 ("training \(objective.trainFigure(epoch: last.epoch)) per row (last epoch)", String(format: "%.3f", last.trainELBO)),
                 ("held-out \(objective.heldOutFigure) per row", last.heldOutELBO.map { String(format: "%.3f", $0) } ?? "-"),
                 ("seconds per epoch (median)", String(format: "%.2f", perEpoch))]
        if let note = objective.note { rows.append(("what the figures are", note)) }
        return rows
    }

    /// `body`'s result, a value outside its support placed in the data file (the training rows
    /// are a held-out split's rest, in the file's order).
    func placingBadRows<Result>(in data: Dataset, _ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let TrainingError.badDataRow(row, element, error, nil) where data.trainRows.indices.contains(row) {
            throw TrainingError.badDataRow(row: data.trainRows[row], element: element, error: error, source: data.source)
        } catch let TrainingError.badHeldOutRow(row, error, nil) where data.testRows.indices.contains(row) {
            throw TrainingError.badHeldOutRow(row: data.testRows[row], error: error, source: data.source)
        }
    }

    /// The checkpoint of the run in `folder`, with its settings and the data it was trained on.
    func resumedRun(_ folder: String) throws -> (checkpoint: Checkpoint, settings: ModelSettings, dataPath: String?, columns: [String]?, trainingFlags: [String: String]) {
        let path = (folder as NSString).appendingPathComponent("checkpoint.latent")
        guard FileManager.default.fileExists(atPath: path) else {
            let previous = OutputFolder.previous(in: folder)
            let hint = FileManager.default.fileExists(atPath: (previous as NSString).appendingPathComponent("checkpoint.latent")) ? "; the run it held before a fresh run began is in \(previous): move its files back into \(folder) to resume it" : "; train without --resume first"
            throw UsageError("--resume: \(folder) holds no checkpoint to resume\(hint)")
        }
        let checkpoint = try Checkpoint.read(from: path)
        guard checkpoint.metadata["model"] == model.name else {
            throw CheckpointError.mismatch(path: path, reason: "it was written for model '\(checkpoint.metadata["model"] ?? "?")', not '\(model.name)'")
        }
        let settings = try storedSettings(checkpoint, path: path, model: model)
        // Data given anew may have moved: the library compares their rows with the checkpoint's.
        let dataPath = arguments.text("data") != nil ? checkpoint.metadata["data path"] : try trainedDataPath(checkpoint)
        let columns = checkpoint.metadata["columns"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        let trainingFlags = try storedTrainingFlags(checkpoint, path: path)
        try TrainingFlags.checkResumed(given: TrainingFlags(arguments: arguments).stored, stored: trainingFlags, model: model)
        return (checkpoint, settings, dataPath, columns, trainingFlags)
    }
}

/// The most memory this program has held resident so far, in bytes: the kernel's high-water
/// mark of this program's own memory (`VmHWM`), which, unlike `getrusage`'s figure, does not
/// inherit the peak of the process that started it.
func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
    return kilobytes * 1024
}

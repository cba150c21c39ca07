import Distributions
import PPL
import TensorCore

/// Checks of a model the compiler makes beside its prototype trace: what one trace cannot show,
/// found by running the model again.
extension Amortized {
    /// A global site (a latent outside the data plate, or a parameter anywhere) is one value for
    /// the whole data set, so its shape must follow neither the minibatch nor the data set's size: the rows
    /// are shuffled into minibatches, so a global matched to rows by position pairs them at
    /// random (a latent of shape [n] beside n rows trained every element to the mean). The model
    /// is traced again on one row fewer (or one more), then as if the data set had one row more
    /// (and the batch too, when it holds the whole data set), with fresh parameters, and a
    /// global site whose shape changed is refused. A model that cannot run on the other rows is
    /// left to fail where it fails.
    func checkGlobalShapes(_ prototype: Trace, example: Input, datasetSize: Int) throws {
        let rows = example.rowCount
        guard rows >= 1 else { return }
        func firstChanged(_ traced: Input, datasetSize size: Int) -> (site: Site, again: Site)? {
            guard let retraced = try? model.trace(traced, size, parameters: ParameterStore(), seed: 0) else { return nil }
            for site in prototype.sites where site.kind == .param || (site.kind == .latent && site.dataPlate == nil) {
                if let again = retraced[site.name], again.value.shape != site.value.shape { return (site, again) }
            }
            return nil
        }
        func kind(_ site: Site) -> String {
            site.kind == .latent ? "a latent site outside the data plate" : site.dataPlate == nil ? "a parameter outside the data plate" : "a parameter, even inside the data plate"
        }
        let other = example.rows(rows > 1 ? Array(0..<(rows - 1)) : [0, 0])
        if let (site, again) = firstChanged(other, datasetSize: Swift.max(datasetSize, other.rowCount)) {
            throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "it is \(kind(site)), so one value stands for the whole data set, but its shape follows the minibatch (\(Shape.describe(site.value.shape)) for a minibatch of \(rows) row\(rows == 1 ? "" : "s"), \(Shape.describe(again.value.shape)) for \(other.rowCount)); a value per row belongs inside plate(\"data\", size: datasetSize, subsample: x), and a global value's shape must not depend on the rows")
        }
        // With the whole data set in the batch, the batch grows with it (a row repeated).
        let grown = rows == datasetSize ? example.rows(Array(0..<rows) + [0]) : example
        if let (site, again) = firstChanged(grown, datasetSize: datasetSize + 1) {
            throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "it is \(kind(site)), but its shape follows the size of the data set (\(Shape.describe(site.value.shape)) for \(datasetSize) rows, \(Shape.describe(again.value.shape)) for \(datasetSize + 1)); the rows are shuffled into minibatches every epoch, so no global value can be matched to a row by its position: a value per row belongs inside plate(\"data\", size: datasetSize, subsample: x), and a series whose order matters is one row with a column per step")
        }
    }

    /// Every per-row value the model uses (its observations, masks, labels, and covariates in
    /// its distributions' parameters) must come from the rows: the rows are shuffled into
    /// minibatches every epoch (also when one batch holds them all), so per-row values the model
    /// captures instead of reading them from its input are paired with other rows at random (a
    /// helper's regression on a captured y trained to a slope of -0.001 against an exact 1.91,
    /// and a captured mask counted placeholder values as data, with no error). The model is
    /// traced again on the rows in a fixed shuffled order, with each latent value moved with its
    /// row, and a site inside the data plate whose log-probability terms did not move with the
    /// rows (beyond rounding) is refused. A model that cannot run so is left to fail where it
    /// fails.
    func checkValuesFollowTheRows(_ prototype: Trace, example: Input, datasetSize: Int) throws {
        let rows = example.rowCount
        guard rows >= 2 else { return }
        var generator = RandomGenerator(seed: 0x5EED_0F_2045)
        var order = Array(0..<rows)
        for i in stride(from: rows - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        if order == Array(0..<rows) { order = Array(1..<rows) + [0] }
        let moved = Tensor(order.map(Float.init))
        func rowAxis(_ tensor: Tensor, trailing: Int, _ plate: PlateFrame) -> Int? {
            let axis = tensor.rank - trailing + plate.dim
            return axis >= 0 && axis < tensor.rank && tensor.shape[axis] == rows ? axis : nil
        }
        var values: [String: Tensor] = [:]
        for site in prototype.latentSites {
            let axis = site.dataPlate.flatMap { rowAxis(site.value, trailing: site.eventShape.count, $0) }
            values[site.name] = axis.map { site.value.gathering(moved, axis: $0) } ?? site.value
        }
        let recorder = TraceHandler()
        guard (try? withoutGradient({ try model.run(example.rows(order), datasetSize, handlers: [recorder, parameters, ConditionHandler(values)]) })) != nil else { return }
        for site in prototype.sites {
            guard let plate = site.dataPlate, let before = site.logProb, let after = recorder.trace[site.name]?.logProb,
                  after.shape == before.shape, let axis = rowAxis(before, trailing: 0, plate) else { continue }
            let expected = before.gathering(moved, axis: axis).uncountedScalars, found = after.uncountedScalars
            let differs = zip(expected, found).contains { a, b in
                a != b && !(a.isNaN && b.isNaN) && !(Swift.abs(a - b) <= 1e-4 * Swift.max(1, Swift.abs(a), Swift.abs(b)))
            }
            if differs {
                // A per-row discrete latent the compiler sums or enumerates, read as a number,
                // also stops the terms following the rows: that read is the one to name.
                if handWrittenGuide == nil {
                    let summable = prototype.latentSites.filter { $0.dataPlate != nil && $0.distribution?.enumerateSupport() != nil && options.estimators[$0.name] != .scoreFunction }
                    try model.checkNumberReads(of: summable.map(\.name), example, datasetSize, parameters: parameters)
                }
                throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "its log-probability does not follow the rows: traced again on the rows in another order, each latent value moved with its row, its terms did not move with them, so the model reads per-row values (observations, a mask, labels, covariates) from somewhere other than its input. The rows are shuffled into minibatches every epoch (also when one batch holds them all), so such values are paired with other rows at random; pass them in with the rows (a column of a Table, say) and read them from the input. A per-row value of shape [rows] (a mask, a covariate) read inside a plate nested in the data plate lines up with that plate's axis, not the rows', when the two are the same size: give it the rows' axis (reshaped to [rows, 1] for a data plate at dim -2)")
            }
        }
    }

    /// What runs with values watched on a tape show, refused here because the compiled guide
    /// would give a wrong answer without an error:
    /// - a latent's support whose bounds are made from a parameter, another latent or the data
    ///   (u ~ Uniform(0, a)): the guide's bijector onto the support is built once, at compile
    ///   time, and its proposals leave the support as the bounds move (an objective grew without
    ///   end as a learned bound shrank; rows whose data bound was not in the first minibatch got
    ///   log p(x) -8.6 against -1.35; bounds 1 + c with c a coin drawn 0 at compile time kept u
    ///   below 1, log p(x) -12.0 against -4.37);
    /// - a value made from a continuous latent or a parameter read as a Swift number
    ///   (`if u.scalar > 0`): no gradient passes through it, so what the model decides with it
    ///   is not learned (the guide of u stayed at its prior).
    /// A guide written by hand may follow moving bounds, so it is not checked.
    func checkTheWatchedRuns(example: Input, datasetSize: Int) throws {
        let tape = GradientTape()
        let watched = ParameterStore()
        for name in parameters.names { watched.setUnconstrained(name, tape.watch(parameters.unconstrained[name]!)) }
        let reads = ValueReads(of: tape)
        let watcher = LatentWatcher(tape: tape, watching: .continuous, reads: reads)
        try ValueReads.$current.withValue(reads) {
            try tape.record { try model.run(example, datasetSize, handlers: [watched, SeedHandler(seed: 0), watcher]) }
        }
        watcher.finish()
        if let site = watcher.sitesWithMovingBounds.first {
            throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "the bounds of its support are made from a parameter or another latent, and " + fixedBoundsAdvice)
        }
        if let read = watcher.firstValueRead {
            let (name, location) = read.next ?? read.previous ?? (model.name, SourceLocation(file: "model '\(model.name)'", line: 0))
            let place = read.next == nil ? "after it" : read.previous.map { "before it (after site '\($0.name)' at \($0.location))" } ?? "before it"
            throw CompilerError.unsupportedSite(site: name, location: location, reason: "\(place), the model reads a value made from a continuous latent or a parameter as a Swift number (`.scalar`, `.scalars`); no gradient passes through a Swift number, so what the model decides with it (a branch, a loop, an index) is not learned. Write it with tensor operations (select(u .> 0, a, b)); a value only printed can be read as `.detached.scalar`")
        }
        // The data and the discrete latents, whose values a read as a number may legitimately use.
        let dataTape = GradientTape()
        let watchedExample = watchingEveryTensor(of: example, on: dataTape) ?? example
        let dataWatcher = LatentWatcher(tape: dataTape, watching: .discrete, reads: nil)
        try dataTape.record { try model.run(watchedExample, datasetSize, handlers: [parameters, SeedHandler(seed: 0), dataWatcher]) }
        if let site = dataWatcher.sitesWithMovingBounds.first {
            throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "the bounds of its support are made from the data or from a discrete latent, so they change from row to row, minibatch to minibatch or draw to draw, and " + fixedBoundsAdvice)
        }
    }

    /// `rows` with every tensor watched on `tape` (a tensor, or each column of a table).
    func watchingEveryTensor(of rows: Input, on tape: GradientTape) -> Input? {
        if let tensor = rows as? Tensor { return tape.watch(tensor) as? Input }
        if let table = rows as? Table { return (try? Table(names: table.names, columns: table.columns.map(tape.watch))) as? Input }
        return nil
    }
}

/// What to write instead of a latent whose support moves.
let fixedBoundsAdvice = "the guide's bijector onto the support is fixed when it is compiled; draw it between fixed bounds (u ~ Uniform(0, 1)) and move it in the model (low + (high - low) * u)"

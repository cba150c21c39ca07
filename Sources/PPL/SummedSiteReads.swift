import TensorCore

extension Model {
    /// Refuses a model that reads one of `sites` as a Swift number (`.scalar`, `.scalars`, also
    /// of a value made from it, as `(m .== 1).scalar`), found by a run with their sampled values
    /// watched on a tape. Inference sums these sites over their supports: while a site is summed
    /// its value holds every value of its support at once (along a dimension of its own), so a
    /// number read from it makes one choice for all of them, a wrong answer without an error (a
    /// mean chosen with `m.scalars[0] == 1` gave log p(x) -74.7 where the exact one is -4.6),
    /// or a conversion such as `Int(m.scalar)` stops the program. The run draws the values, so
    /// the model never sees a summed one before this check.
    package func checkNumberReads(of sites: [String], _ input: repeat each Input, parameters: ParameterStore) throws {
        guard !sites.isEmpty else { return }
        func watchedRun(_ watched: Set<String>) throws -> LatentWatcher {
            let tape = GradientTape()
            let reads = ValueReads(of: tape, recordingWithoutGradient: true)
            let watcher = LatentWatcher(tape: tape, watching: .sites(watched), reads: reads)
            try ValueReads.$current.withValue(reads) {
                try tape.record { try run(repeat each input, handlers: [parameters, SeedHandler(seed: 0), watcher]) }
            }
            watcher.finish()
            return watcher
        }
        guard try watchedRun(Set(sites)).firstValueRead != nil else { return }
        for site in sites {
            let watcher = try watchedRun([site])
            guard let read = watcher.firstValueRead, let location = watcher.watchedLocations[site] else { continue }
            let place = switch (read.previous, read.next) {
            case let (previous?, next?): "between site '\(previous.name)' at \(previous.location) and site '\(next.name)' at \(next.location)"
            case let (previous?, nil): "after site '\(previous.name)' at \(previous.location), the last"
            case let (nil, next?): "before site '\(next.name)' at \(next.location)"
            case (nil, nil): "in the model"
            }
            throw summedSiteRead(site: site, location: location, place: place)
        }
    }
}

/// The refusal of a read as a number of `site`'s value, summed over its support, made `place`.
func summedSiteRead(site: String, location: SourceLocation, place: String) -> ModelError {
    ModelError.notEnumerable(site: site, location: location, reason: "its value is read as a Swift number (`.scalar`, `.scalars`, also through `.detached`) \(place), but inference sums it over its support, and while it is summed its value holds every value of the support at once, so a number read from it would make one choice for all of them. Write what depends on it with tensor operations: index a tensor by it (locs.gathering(z)) or choose with select(m .== 1, a, b); or have it drawn instead of summed (CompilerOptions.estimators[\"\(site)\"] = .scoreFunction)")
}

extension GuardedValueRead {
    /// The read as a model's error, made `place`.
    func modelError(place: String) -> ModelError {
        summedSiteRead(site: site, location: SourceLocation(file: file, line: line), place: place)
    }
}

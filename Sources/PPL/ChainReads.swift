import TensorCore

/// The most chain sites the check gives a dimension of its own each (the rank of the run's
/// tensors grows with them).
private let chainReadCheckDimensions = 256

/// How many steps later than `history + 1` the check's runs of a long chain reuse dimensions.
private let checkPeriods = [15, 16, 18]

/// What a model that reads a chain's site too late can do instead.
private let chainReadAdvice = "read each step's site in that step (observe inside the chain rather than after it), draw a site that every step reads before the chain, or give the chain the history the model reads back"

/// Runs a model under enumeration (`run` runs it under the handler given and returns the
/// trace) and refuses it if a site reads a `markov` chain's site after the chain gave that
/// site's dimension to a later step's site.
///
/// A chain reuses a site's enumeration dimension `history + 1` steps later, which keeps the
/// sum linear in the chain's length, and each term is taken to depend on whichever site holds
/// a dimension when the term is made. A value read later (states kept in an array and observed
/// after the loop, a read further back than `history`, a second chain over the first one's
/// states) would be paired with the newer site: a wrong answer with no error. So when the run
/// reused a dimension, the model runs again, and each term must depend on the same enumerated
/// sites in every run: with up to `chainReadCheckDimensions` chain sites, with dimensions
/// reused 15 steps later than `history + 1`, then with every chain site on a dimension of its
/// own, which is exact (the shorter run first: a model that reads every earlier step, a
/// running sum of the states, would make tensors that double with each step in the other);
/// with more, with dimensions reused 15, 16 and 18 steps later, which together tell apart
/// every read less than about 1,800 steps back.
package func checkChainReads(firstDim: Int, sites: Set<String>? = nil, run: (EnumerateHandler) throws -> Trace) throws -> Trace {
    try checkChainReads(firstDim: firstDim, sites: sites) { enumerate in
        let trace = try run(enumerate)
        return (trace, trace)
    }.checked
}

/// `checkChainReads` where the chains enumerated are not the checked run's own: `run` returns
/// the trace whose terms are checked (a model replaying a guide) and the trace of the chains'
/// sites (the guide, which enumerates them under the handler given).
package func checkChainReads(firstDim: Int, sites: Set<String>?, runs run: (EnumerateHandler) throws -> (checked: Trace, chains: Trace)) throws -> (checked: Trace, chains: Trace) {
    let enumerate = EnumerateHandler(firstDim: firstDim, sites: sites)
    let traces: (checked: Trace, chains: Trace)
    do {
        traces = try run(enumerate)
    } catch ModelError.atSite(let site, let location, let underlying) where enumerate.reusesDimensions {
        // Shapes that clash only where the chain reuses dimensions: a stale read whose sizes
        // differ (a value of 2 entries met one of 3).
        let failure = ModelError.atSite(site: site, location: location, underlying: underlying)
        guard checkPeriods.contains(where: { (try? run(EnumerateHandler(firstDim: firstDim, sites: sites, chainSlots: $0))) != nil }) else { throw failure }
        throw ModelError.reusedChainDimension(site: site, location: location, reason: "it fails (\(underlying)) with the chain's dimensions reused, and runs when they are not: it reads a chain's site after the chain gave that site's dimension to a later step's. A chain reuses a site's dimension history + 1 steps later, so its sites may be read only inside the chain, at most `history` steps after them; \(chainReadAdvice)")
    }
    guard enumerate.reusesDimensions else { return traces }
    let chainSites = traces.chains.sites.filter { $0.markovStep != nil && $0.enumerationDim != nil }.count
    for steps in chainSites <= chainReadCheckDimensions ? [checkPeriods[0], Int.max] : checkPeriods {
        let spreading = EnumerateHandler(firstDim: firstDim, sites: sites, chainSlots: steps)
        let spread = try run(spreading)
        for site in traces.checked.sites {
            guard let reference = spread.checked[site.name] else { continue }
            let read = site.enumeratedDependencies, truth = reference.enumeratedDependencies
            guard read != truth else { continue }
            // A run that reused no dimension is exact.
            throw ModelError.reusedChainDimension(site: site.name, location: site.location, reason: reusedDimensionReason(site, read: read, truth: truth, traces: traces, spread: spread, exact: !spreading.reusesDimensions))
        }
        if !spreading.reusesDimensions { break }
    }
    return traces
}

/// Which chain site `site` reads, and which site holds its dimension now, when the run it is
/// compared with is `exact` (else that run may itself have reused the site's dimension).
private func reusedDimensionReason(_ site: Site, read: Set<String>, truth: Set<String>, traces: (checked: Trace, chains: Trace), spread: (checked: Trace, chains: Trace), exact: Bool) -> String {
    guard exact, let lost = spread.checked.names.first(where: { truth.contains($0) && !read.contains($0) }),
          let step = spread.chains[lost]?.markovStep else {
        return "its terms change with how long the chain keeps a site's dimension, so it reads a chain's site more than `history` steps after it (or after the chain); \(chainReadAdvice)"
    }
    let holder = traces.checked[lost]?.enumerationDim.flatMap { site.enumeratedVariables[$0] }.map { " to '\($0)'" } ?? ""
    let steps = step.history == 1 ? "1 step" : "\(step.history) steps"
    return "it reads '\(lost)' (step \(step.step) of chain '\(step.chain)'), whose enumeration dimension the chain has given\(holder) by then. A chain reuses a site's dimension \(step.history + 1) steps later (markov history \(step.history)), so its sites may be read only inside the chain, at most \(steps) after them; \(chainReadAdvice) (markov(\"\(step.chain)\", steps: ..., history: k))"
}

extension Site {
    /// The enumerated sites the log-probability varies with.
    var enumeratedDependencies: Set<String> {
        guard let logProb else { return [] }
        let shape = logProb.shape
        return Set(enumeratedVariables.compactMap { dim, name in -dim <= shape.count && shape[shape.count + dim] > 1 ? name : nil })
    }
}

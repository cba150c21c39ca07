import Distributions
import PPL
import TensorCore

extension ELBOComputation {
    /// A drawn latent's entries a `MaskHandler` masks out are absent from the model: the ELBO
    /// leaves out their guide terms with their `log p` (`droppingMaskedEntries`). A site whose
    /// kept terms still read such an entry would rest on a value with no prior (for a continuous
    /// latent, a flat one over the real line): the guide would collapse onto what fits and the
    /// ELBO bound nothing. Such a read is refused, naming both sites. It is found by drawing the
    /// masked entries again from the site's own distribution (twice, with the other latents held)
    /// and comparing every other site's terms, on every minibatch and every evaluation whose
    /// rows mask one out: a read through an index, a branch or a flat stretch of a function
    /// shows as one through arithmetic does. A summed latent's masked entry is uniform over its
    /// values instead, which other sites may read.
    func checkMaskedEntriesAreUnread(_ trace: Trace, _ data: Input, datasetSize: Int) throws {
        let summed: Set<Estimator> = [.enumerated, .marginalized]
        let masked = trace.latentSites.filter { site in
            site.enumerationDim == nil && !summed.contains(plan[site.name]?.estimator ?? .reparameterized)
                && site.mask.map { $0.uncountedScalars.contains(0) } ?? false
        }
        guard !masked.isEmpty else { return }
        try withoutGradient {
            let drawn = TraceHandler()
            try model.run(data, datasetSize, handlers: [drawn, modelParameters, SeedHandler(GeneratorBox(RandomGenerator(seed: 0x3A5C_ED00)))])
            var values: [String: Tensor] = [:]
            for site in drawn.trace.latentSites { values[site.name] = site.value }
            func terms(_ values: [String: Tensor]) throws -> Trace {
                let recorder = TraceHandler()
                try model.run(data, datasetSize, handlers: [recorder, modelParameters, ConditionHandler(values)])
                return recorder.trace
            }
            let held = try terms(values)
            var generator = RandomGenerator(seed: 0x3A5C_ED01)
            for name in masked.map(\.name) {
                guard let site = drawn.trace[name], let mask = site.mask, let distribution = site.distribution else { continue }
                let eventAxes = [Int](repeating: 1, count: site.eventShape.count)
                let absent = mask.reshaped(to: mask.shape + eventAxes) .== Tensor(0)
                for _ in 0..<2 {
                    var moved = values
                    moved[name] = select(absent, distribution.sample([], using: &generator), site.value)
                    let again = try terms(moved)
                    for before in held.sites where before.name != name {
                        guard let old = before.logProb, let new = again[before.name]?.logProb else { continue }
                        let changed = old.shape != new.shape || zip(old.uncountedScalars, new.uncountedScalars).contains { a, b in a != b && !(a.isNaN && b.isNaN) }
                        guard changed else { continue }
                        var reason = "a MaskHandler masks out some of its entries, and site '\(before.name)' at \(before.location) reads them where it is not masked (its terms changed when the masked entries were drawn again). A drawn latent's masked entry is absent from the model (its log p and its guide's log q are left out), so a term that reads it rests on a value with no prior, and the ELBO would bound nothing; mask '\(before.name)' with the same mask, or leave '\(name)' unmasked"
                        if distribution.enumerateSupport() != nil { reason += ", or have it summed (CompilerOptions.estimators[\"\(name)\"] = .enumerated), where a masked entry is uniform over its values" }
                        throw CompilerError.unsupportedSite(site: name, location: site.location, reason: reason)
                    }
                }
            }
        }
    }
}

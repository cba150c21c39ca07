import TensorCore

extension Model {
    /// Refuses a model whose code mixes the values of one of `sites` while it is summed. A site
    /// summed over its values holds them all at once, along a dimension of its own left of the
    /// plates, and each value's terms must stay apart along it; code that reduces over every
    /// axis (`m.mean()`) or flattens the value (`k.reshaped(to: [-1])`) mixes them, and the sum
    /// is then of other numbers, with no error (helper-41: a mean over every entry read log p(x)
    /// -5.57 for -5.96, a flattened index -3.16 for -6.52 on 3 rows of a 3-valued site). So the
    /// model runs once with the site summed and once at each of its values (sites of up to 64
    /// values; the other latents at their values in `prototype`), and every other site's terms
    /// at each value must be that value's slice of the summed run's. A `markov` chain's sites,
    /// whose dimensions are reused, are checked for stale reads instead (`checkChainReads`).
    package func checkSummedValuesStayApart(_ sites: Set<String>, prototype: Trace, _ input: repeat each Input, parameters: ParameterStore) throws {
        let firstDim = -prototype.maximumBatchRank - 1
        for site in prototype.latentSites where sites.contains(site.name) && site.markovStep == nil {
            guard let support = site.distribution?.enumerateSupport(), let count = support.shape.first, count >= 2, count <= 64 else { continue }
            let others = Set(prototype.latentSites.map(\.name)).subtracting([site.name])
            func traced(_ handler: any Handler) -> Trace? {
                let recorder = TraceHandler()
                let ran: Void? = try? withoutGradient { try run(repeat each input, handlers: [recorder, parameters, SeedHandler(seed: 0), handler, ReplayHandler(prototype, sites: others)]) }
                return ran.map { recorder.trace }
            }
            guard let together = traced(EnumerateHandler(firstDim: firstDim, sites: [site.name])), let dim = together[site.name]?.enumerationDim else { continue }
            for index in 0..<count {
                let value = support.slice(axis: 0, index..<(index + 1)).reshaped(to: Array(support.shape.dropFirst())) + Tensor.zeros(site.value.shape)
                guard let alone = traced(ConditionHandler([site.name: value])) else { continue }
                for term in together.sites where term.name != site.name {
                    guard let summedTerms = term.logProb, let ownTerms = alone[term.name]?.logProb else { continue }
                    let axis = summedTerms.rank + dim
                    let slice = axis >= 0 && summedTerms.shape[axis] == count ? summedTerms.slice(axis: axis, index..<(index + 1)) : summedTerms
                    guard let shape = Shape.broadcast(slice.shape, ownTerms.shape), Shape.count(shape) == Swift.max(Shape.count(slice.shape), Shape.count(ownTerms.shape)) else { continue }
                    let apart = zip((slice + Tensor.zeros(shape)).uncountedScalars, (ownTerms + Tensor.zeros(shape)).uncountedScalars).allSatisfy { a, b in
                        a == b || (a.isNaN && b.isNaN) || Swift.abs(a - b) <= 1e-4 * Swift.max(1, Swift.abs(a), Swift.abs(b))
                    }
                    guard apart else {
                        throw ModelError.notEnumerable(site: site.name, location: site.location, reason: "it is summed over its \(count) values, and site '\(term.name)' at \(term.location) mixes them: its terms for one value, run with the site at that value alone, differ from that value's share of its terms when every value is held at once (along a dimension of their own, left of the plates). A reduction over every axis (mean(), sum() with no axes) or a reshape that flattens the value mixes the values; reduce over named axes and keep the leading ones, or have the site drawn (CompilerOptions.estimators[\"\(site.name)\"] = .scoreFunction)")
                    }
                }
            }
        }
    }
}

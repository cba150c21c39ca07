import Foundation
import TensorCore

/// A term of a log density handed to a `Contraction`: a log-probability in the layout of a
/// trace (enumerated values along dimensions left of the plates), the enumerated variable each
/// of those dimensions holds, and the plates the term lies in.
package struct Factor {
    /// The log-probability (or, for a guide's term, `-log q`, `-KL`), unscaled by the plates.
    package var logValue: Tensor
    /// Enumeration dimension (negative) to the variable it holds.
    package var variables: [Int: String]
    /// The plates around the term, outermost first.
    package var plates: [PlateFrame]
    /// A factor beyond the plates' N/M (a user's `scale`, the KL weight beta).
    package var scale: Float
    /// The site the term comes from, for messages.
    package var site: String
    package var location: SourceLocation

    package init(_ logValue: Tensor, variables: [Int: String], plates: [PlateFrame], scale: Float = 1, site: String, location: SourceLocation) {
        self.logValue = logValue
        self.variables = variables
        self.plates = plates
        self.scale = scale
        self.site = site
        self.location = location
    }
}

/// How a contraction removes an enumerated variable.
package enum Elimination {
    /// `log sum_v exp(f)`: summed out of the joint, as a model sums out a discrete latent.
    case sum
    /// `sum_v q(v) f`: the expectation under a guide's `q`, whose `log q(v | parents)` the factor
    /// holds (the ELBO of a guide that enumerates `v`).
    case expectation(Factor)
}

/// An enumerated variable of a contraction: a discrete site run over its whole support.
package struct EnumeratedVariable {
    package var name: String
    package var size: Int
    package var plates: [PlateFrame]
    package var elimination: Elimination
    package var location: SourceLocation

    var isSummed: Bool {
        if case .sum = elimination { return true }
        return false
    }

    package init(name: String, size: Int, plates: [PlateFrame], elimination: Elimination, location: SourceLocation) {
        self.name = name
        self.size = size
        self.plates = plates
        self.elimination = elimination
        self.location = location
    }
}

/// Variable elimination along plates (Obermeyer et al. 2019, "Tensor variable elimination for
/// plated factor graphs"): the one contraction behind exact posteriors, marginal likelihoods,
/// the enumerated ELBO and importance weights.
///
/// Factors are grouped by their plate sets and contracted from the deepest plate set outwards.
/// Within a plate set the variables that live there are eliminated one at a time, the one whose
/// elimination makes the smallest tensor first (so a Markov chain is summed in linear time),
/// summed variables before the guide's expectations that share a term with them and a guide
/// variable's children before the variable. Then each remaining term is summed over the plate
/// set's innermost plate (times its N/M) and passed to the enclosing plate set. At the root the
/// global variables go, and the terms sum to a scalar.
package struct Contraction {
    let batchRank: Int
    let variables: [String: EnumeratedVariable]
    let order: [String]
    var terms: [Term]
    let frames: [[String]: [PlateFrame]]

    /// A factor in compact layout: one axis per variable it depends on, then `batchRank` axes.
    struct Term {
        var tensor: Tensor
        var variables: [String]
        var node: [String]
    }

    package init(factors: [Factor], variables: [EnumeratedVariable], batchRank: Int) throws {
        self.batchRank = batchRank
        self.variables = Dictionary(variables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        order = variables.map(\.name)
        var frames: [[String]: [PlateFrame]] = [:]
        // Every enclosing plate set too: terms summed out of an inner plate move to it even
        // when no site lives there alone.
        for plates in factors.map(\.plates) + variables.map(\.plates) where !plates.isEmpty {
            for depth in 1...plates.count { frames[plates.prefix(depth).map(\.name)] = Array(plates.prefix(depth)) }
        }
        self.frames = frames
        terms = []
        terms = try factors.map { try compact($0) }
    }

    /// The whole contraction: a scalar (`log p(x)` when every variable is summed).
    package func total() throws -> Tensor {
        var state = self
        try state.contract(stoppingAt: nil)
        try state.eliminate(state.pending(at: []), at: [])
        try state.checkNothingLeft()
        return state.terms.reduce(Tensor(0)) { $0 + $1.tensor.sum() }
    }

    /// Every variable must be gone: one left means a term outside a plate depends on a site
    /// inside it.
    func checkNothingLeft() throws {
        guard let term = terms.first(where: { !$0.variables.isEmpty }), let variable = variables[term.variables[0]] else { return }
        throw ModelError.notEnumerable(site: variable.name, location: variable.location, reason: "a term in plates [\(term.node.joined(separator: ", "))] depends on it, but it lives inside plates [\(variable.plates.map(\.name).joined(separator: ", "))]")
    }

    /// The contraction of everything inside `plate`, one number per element of the plate (per
    /// data row): terms outside the plate are left out, and global variables of the guide are
    /// averaged out per element. Throws if a summed variable outside the plate remains.
    package func perElement(of plate: PlateFrame) throws -> Tensor {
        var state = self
        guard let node = try state.contract(stoppingAt: plate.name) else { return Tensor.zeros([plate.subsampleSize]) }
        let inside = state.terms.filter { $0.node == node }
        state.terms = inside
        let outer = Set(inside.flatMap(\.variables))
        if let summed = order.first(where: { outer.contains($0) && variables[$0]!.isSummed }) {
            let variable = variables[summed]!
            throw ModelError.notEnumerable(site: summed, location: variable.location, reason: "it is summed out outside plate '\(plate.name)', so the contraction does not split into one term per element of that plate")
        }
        try state.eliminate(order.filter { outer.contains($0) }, at: node)
        try state.checkNothingLeft()
        let axis = batchRank + plate.dim
        var result = Tensor.zeros([plate.subsampleSize])
        for term in state.terms {
            let others = (0..<term.tensor.rank).filter { $0 != axis }
            let row = others.isEmpty ? term.tensor : term.tensor.sum(axes: others)
            result = result + row.reshaped(to: [-1])
        }
        return result
    }

    /// Contracts plate sets deepest first. With `target`, only those containing that plate,
    /// stopping (before its sum) at the one where it is innermost, whose key is returned.
    @discardableResult
    mutating func contract(stoppingAt target: String?) throws -> [String]? {
        while let node = nextNode(containing: target) {
            try eliminate(pending(at: node), at: node)
            if node.last == target { return node }
            sumInnermostPlate(of: node)
        }
        return nil
    }

    /// The deepest plate set holding terms (terms only move outwards, so a variable's plate set
    /// holds all its terms by the time it comes up).
    func nextNode(containing target: String?) -> [String]? {
        let candidates = Set(terms.map(\.node)).filter { !$0.isEmpty && (target.map($0.contains) ?? true) }
        return candidates.max { ($0.count, $1.joined(separator: "\u{1}")) < ($1.count, $0.joined(separator: "\u{1}")) }
    }

    /// The variables living at `node` that some term still depends on, in declaration order.
    func pending(at node: [String]) -> [String] {
        let used = Set(terms.flatMap(\.variables))
        return order.filter { used.contains($0) && variables[$0]!.plates.map(\.name) == node }
    }

    /// Eliminates `names` (all living at `node`) in a valid, cheap order: each step takes the
    /// ready variable whose elimination makes the smallest tensor, the first declared among
    /// equals. An index from each variable to its terms makes a step cost what its own terms do,
    /// so a chain is summed in time linear in its length.
    mutating func eliminate(_ names: [String], at node: [String]) throws {
        let names = Set(names)
        var index = TermIndex(terms)
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        var queue = EliminationQueue()
        var blocked: [String] = []
        for name in names where index.isUsed(name) { queue.push(name, cost: cost(of: name, in: index), position: position[name]!) }
        while true {
            guard let next = queue.popCheapest(where: { index.isUsed($0) && cost(of: $0, in: index) == $1 }) else {
                guard let stuck = blocked.min(by: { position[$0]! < position[$1]! }).map({ variables[$0]! }) else { break }
                throw ModelError.notEnumerable(site: stuck.name, location: stuck.location, reason: "the guide enumerates it, and it shares a term with a site summed out in the model outside its plates; sum both out in the model, or guide both")
            }
            guard isReady(next, in: index) else {
                blocked.append(next)
                continue
            }
            let involved = index.terms(of: next)
            if let foreign = involved.first(where: { $0.node != node }) {
                throw ModelError.notEnumerable(site: next, location: variables[next]!.location, reason: "a term in plates [\(foreign.node.joined(separator: ", "))] depends on it, but it lives in plates [\(node.joined(separator: ", "))]")
            }
            let replacements = try eliminate(next, from: involved)
            index.replace(termsOf: next, with: replacements)
            var touched = Set(replacements.flatMap(\.variables))
            touched.formUnion(blocked)
            blocked = []
            for name in touched where names.contains(name) && index.isUsed(name) {
                queue.push(name, cost: cost(of: name, in: index), position: position[name]!)
            }
        }
        terms = index.remainingTerms
    }

    /// A summed variable is always ready; a guide variable once no remaining guide variable is
    /// conditioned on it and no summed variable shares a term with it.
    func isReady(_ name: String, in index: TermIndex) -> Bool {
        guard case .expectation = variables[name]!.elimination else { return true }
        for other in variables.values where other.name != name && index.isUsed(other.name) {
            switch other.elimination {
            case .sum:
                if index.shareATerm(name, other.name) { return false }
            case let .expectation(weights):
                if weights.variables.values.contains(name) { return false }
            }
        }
        return true
    }

    /// Elements of the largest tensor that eliminating `name` makes: the product of the sizes of
    /// every variable its terms (and, for a guide variable, its `q`) depend on.
    func cost(of name: String, in index: TermIndex) -> Int {
        var union = Set(index.terms(of: name).flatMap(\.variables))
        if case let .expectation(weights) = variables[name]!.elimination { union.formUnion(weights.variables.values) }
        return union.reduce(1) { $0 * (variables[$1]?.size ?? 1) }
    }

    /// The terms that replace `involved`, the terms depending on `name`, once it is eliminated.
    func eliminate(_ name: String, from involved: [Term]) throws -> [Term] {
        let node = variables[name]!.plates.map(\.name)
        switch variables[name]!.elimination {
        case .sum:
            let union = unionOfVariables(involved)
            let joint = involved.map { align($0, to: union) }.reduce(Tensor(0)) { $0 + $1 }
            return [Term(tensor: joint.logSumExp(axis: union.firstIndex(of: name)!), variables: union.filter { $0 != name }, node: node)]
        case let .expectation(weights):
            let probabilities = try compact(weights)
            let weight = Term(tensor: exp(probabilities.tensor), variables: probabilities.variables, node: node)
            return involved.map { term in
                let union = unionOfVariables([term, weight])
                let product = align(weight, to: union) * align(term, to: union)
                return Term(tensor: product.sum(axis: union.firstIndex(of: name)!), variables: union.filter { $0 != name }, node: term.node)
            }
        }
    }

    /// Sums every term of `node` over its innermost plate, times the plate's N/M, and moves it
    /// to the enclosing plate set.
    mutating func sumInnermostPlate(of node: [String]) {
        guard let frame = frames[node]?.last else { return }
        let parent = Array(node.dropLast())
        for index in terms.indices where terms[index].node == node {
            let term = terms[index]
            let axis = term.variables.count + batchRank + frame.dim
            let broadcast = term.tensor.shape[axis] == 1 ? Float(frame.subsampleSize) : 1
            terms[index] = Term(tensor: term.tensor.sum(axis: axis, keepDims: true) * (frame.scale * broadcast), variables: term.variables, node: parent)
        }
    }

    func unionOfVariables(_ involved: [Term]) -> [String] {
        var union: [String] = []
        for term in involved { for name in term.variables where !union.contains(name) { union.append(name) } }
        return union
    }

    /// `term` with its variable axes in the order of `union` and size-1 axes for the others.
    func align(_ term: Term, to union: [String]) -> Tensor {
        let present = union.filter { term.variables.contains($0) }
        var tensor = term.tensor
        if present != term.variables {
            let permutation = present.map { term.variables.firstIndex(of: $0)! } + Array(term.variables.count..<tensor.rank)
            tensor = tensor.permuted(permutation)
        }
        let batch = Array(tensor.shape.suffix(batchRank))
        return tensor.reshaped(to: union.map { term.variables.contains($0) ? variables[$0]!.size : 1 } + batch)
    }

    /// `factor` in compact layout, scaled, with its batch axes that are not plates summed.
    func compact(_ factor: Factor) throws -> Term {
        var tensor = factor.logValue
        if tensor.rank < batchRank { tensor = tensor.reshaped(to: [Int](repeating: 1, count: batchRank - tensor.rank) + tensor.shape) }
        let enumerationRank = tensor.rank - batchRank
        var axes: [Int] = [], names: [String] = []
        for axis in 0..<enumerationRank where tensor.shape[axis] > 1 {
            let dim = axis - tensor.rank
            guard let name = factor.variables[dim], let variable = variables[name], variable.size == tensor.shape[axis] else {
                throw ModelError.notEnumerable(site: factor.site, location: factor.location, reason: "its log-probability of shape \(describeShape(factor.logValue.shape)) varies along dimension \(dim), which holds no enumerated site of that size")
            }
            axes.append(axis)
            names.append(name)
        }
        if enumerationRank > 0 {
            let others = (0..<enumerationRank).filter { !axes.contains($0) }
            let permutation = axes + others + Array(enumerationRank..<tensor.rank)
            if permutation != Array(0..<tensor.rank) { tensor = tensor.permuted(permutation) }
            tensor = tensor.reshaped(to: names.map { variables[$0]!.size } + Array(tensor.shape.suffix(batchRank)))
        }
        let plateDims = Set(factor.plates.map(\.dim))
        let loose = (0..<batchRank).filter { tensor.shape[names.count + $0] > 1 && !plateDims.contains($0 - batchRank) }.map { names.count + $0 }
        if !loose.isEmpty { tensor = tensor.sum(axes: loose, keepDims: true) }
        if factor.scale != 1 { tensor = tensor * factor.scale }
        return Term(tensor: tensor, variables: names, node: factor.plates.map(\.name))
    }
}

extension Trace {
    /// Each random site's log-probability as a factor of a contraction (with the correction of
    /// each enumerated, partly observed site).
    package var factors: [Factor] {
        sites.flatMap { site -> [Factor] in
            guard let logProb = site.logProb else { return [] }
            let own = Factor(logProb, variables: site.enumeratedVariables, plates: site.plates, scale: site.userScale, site: site.name, location: site.location)
            return [own] + [site.partialObservationCorrection].compactMap { $0 }
        }
    }

    /// The enumerated sites as variables to sum out.
    package var summedVariables: [EnumeratedVariable] {
        sites.filter { $0.enumerationDim != nil }.map { site in
            EnumeratedVariable(name: site.name, size: site.value.shape.first ?? 1, plates: site.plates, elimination: .sum, location: site.location)
        }
    }
}

/// `log(1/K)`: the weight of each of the `K` enumerated slices of an entry that is the same in
/// all of them (observed, or masked out), so that summing the slices counts the entry once.
package func sliceLogWeight(_ count: Int) -> Tensor {
    Tensor(-Float(Foundation.log(Double(count))))
}

extension Site {
    /// An enumerated site observed in some rows holds the observed value in every one of its `K`
    /// enumerated slices there; summing the slices would count those rows `K` times, so this
    /// factor takes `log K` off each observed row.
    package var partialObservationCorrection: Factor? {
        guard let observation = partialObservation, enumerationDim != nil, let count = value.shape.first, count > 1 else { return nil }
        let correction = select(observation.mask, sliceLogWeight(count), Tensor(0))
        return Factor(correction, variables: [:], plates: plates, scale: userScale, site: name, location: location)
    }

    /// The site's scale beyond its plates' N/M (a `scale` handler's factor).
    package var userScale: Float {
        let plates = plateScale
        return plates == 0 ? 0 : scale / plates
    }
}

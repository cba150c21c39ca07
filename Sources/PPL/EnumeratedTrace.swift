import Distributions
import TensorCore

/// Exact summation over enumerated discrete latents (variable elimination along plates).
///
/// Every random site contributes its log-probability as a factor over the enumeration
/// dimensions (left) and its plates' dimensions (right). Factors are grouped by their plate
/// sets and contracted from the deepest plate outwards: sum the group's factors, log-sum-exp
/// out the enumerated variables that live in that plate set, then sum over the innermost
/// plate's dimension (times its N/M) and pass the result to the enclosing plate set. At the
/// root the remaining (global) enumerated variables are summed out, giving `log p(x)`.
/// Plates must nest (a tree), as in Pyro's TraceEnum_ELBO.
struct EnumeratedTrace {
    let trace: Trace
    let model: String

    init(_ trace: Trace, model: String) {
        self.trace = trace
        self.model = model
    }

    /// `log p(x)`, a scalar.
    func logMarginal() throws -> Tensor { contract(potentials: [:]) }

    /// `p(site = k | x)`: the gradient of `log p(x)` with respect to a zero potential added to
    /// the site's factor; shape `batchShape + [K]`.
    func posterior(of name: String) throws -> Tensor {
        guard let site = trace[name], site.kind == .latent else {
            throw ModelError.noSuchSite(name: name, model: model, available: trace.latentSites.map(\.name))
        }
        guard let dim = site.enumerationDim, let logProb = site.logProb else {
            throw ModelError.notEnumerable(site: name, reason: "its distribution has no finite support")
        }
        let potential = Tensor.zeros(logProb.shape)
        let (_, gradients) = try valueWithGradient(at: [potential]) { contract(potentials: [name: $0[0]]) }
        let joint = gradients[0]
        let batchRank = -(trace.sites.compactMap(\.enumerationDim).max() ?? -1) - 1
        let ownAxis = joint.rank + dim
        let otherEnumerated = (0..<Swift.max(joint.rank - batchRank, 0)).filter { $0 != ownAxis }
        let marginal = otherEnumerated.isEmpty ? joint : joint.sum(axes: otherEnumerated)
        let batch = Array(marginal.shape.dropFirst())
        let plateDepth = site.plates.map { -$0.dim }.max() ?? 0
        var keptBatch = batch
        while keptBatch.count > plateDepth, keptBatch.first == 1 { keptBatch.removeFirst() }
        let moved = marginal.permuted(Array(1..<marginal.rank) + [0])
        return moved.reshaped(to: keptBatch + [marginal.shape[0]])
    }

    /// The contraction described above, with `potentials` added to the named sites' factors.
    func contract(potentials: [String: Tensor]) -> Tensor {
        let random = trace.sites.filter { $0.logProb != nil }
        let rank = random.map { $0.logProb!.rank }.max() ?? 0
        var groups: [[String]: Tensor] = [:]
        var frames: [[String]: [PlateFrame]] = [:]
        for site in random {
            var factor = site.logProb!
            if let potential = potentials[site.name] { factor = factor + potential }
            let plateScale = site.plates.reduce(Float(1)) { $0 * Float($1.size) / Float(Swift.max($1.subsampleSize, 1)) }
            let userScale = site.scale / plateScale
            if userScale != 1 { factor = factor * userScale }
            factor = factor.reshaped(to: [Int](repeating: 1, count: rank - factor.rank) + factor.shape)
            let key = site.plates.map(\.name)
            groups[key] = groups[key].map { $0 + factor } ?? factor
            frames[key] = site.plates
        }
        let enumerated = trace.sites.filter { $0.enumerationDim != nil }
        while let key = groups.keys.filter({ !$0.isEmpty }).max(by: { $0.count < $1.count }) {
            var total = groups.removeValue(forKey: key)!
            let local = enumerated.filter { $0.plates.map(\.name) == key }.map { total.rank + $0.enumerationDim! }
            if !local.isEmpty { total = total.logSumExp(axes: local, keepDims: true) }
            let innermost = frames[key]!.last!
            total = total.sum(axis: total.rank + innermost.dim, keepDims: true) * (Float(innermost.size) / Float(Swift.max(innermost.subsampleSize, 1)))
            let parent = Array(key.dropLast())
            frames[parent] = Array(frames[key]!.dropLast())
            groups[parent] = groups[parent].map { $0 + total } ?? total
        }
        guard var root = groups[[]] else { return Tensor(0) }
        let global = enumerated.filter { $0.plates.isEmpty }.map { root.rank + $0.enumerationDim! }
        if !global.isEmpty { root = root.logSumExp(axes: global, keepDims: true) }
        return root.sum()
    }
}

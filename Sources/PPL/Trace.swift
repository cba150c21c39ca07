import Distributions
import TensorCore

/// One site of a run: what it is, its distribution and value, and its log-probability.
public struct Site {
    public let name: String
    public let kind: SiteKind
    public let distribution: (any Distribution)?
    public let value: Tensor
    public let isObserved: Bool
    /// The factor applied to the log-probability (N/M per subsampled plate, times user scales).
    public let scale: Float
    public let mask: Tensor?
    /// The plates around the site, outermost first.
    public let plates: [PlateFrame]
    /// The batch dimension of the site's enumerated values, when `enumerate` ran it.
    public let enumerationDim: Int?
    /// Which enumerated site each enumeration dimension held when this site ran.
    public let enumeratedVariables: [Int: String]
    /// The Markov chain step of the site, inside `markov`.
    public let markovStep: MarkovStep?
    /// The observed rows of a partly observed site.
    public let partialObservation: PartialObservation?
    /// For parameter sites, the set the value lives in.
    public let constraint: Constraint
    public let location: SourceLocation
    /// `log p(value)` (masked, unscaled), shape `batchShape`; nil for params and deterministic sites.
    public let logProb: Tensor?

    /// Batch shape of the site's distribution.
    public var batchShape: [Int] { distribution?.batchShape ?? [] }
    /// Event shape of the site's distribution.
    public var eventShape: [Int] { distribution?.eventShape ?? [] }
    /// `scale * logProb`, the site's term in the joint log density.
    public var scaledLogProb: Tensor? { logProb.map { $0 * scale } }
    /// True when the site lies inside the plate called `name`.
    public func isInside(plate name: String) -> Bool { plates.contains { $0.name == name } }
    /// The data plate around the site (declared with `subsample:`), if any.
    public var dataPlate: PlateFrame? { plates.first(where: \.isDataPlate) }
    /// The product of the plates' `size / subsampleSize`.
    public var plateScale: Float { plates.reduce(Float(1)) { $0 * $1.scale } }
}

/// The sites of one run of a model, in execution order.
public struct Trace {
    public private(set) var sites: [Site] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// The site called `name`.
    public subscript(name: String) -> Site? { index[name].map { sites[$0] } }

    /// Site names in execution order.
    public var names: [String] { sites.map(\.name) }

    /// The latent (unobserved random) sites.
    public var latentSites: [Site] { sites.filter { $0.kind == .latent } }

    /// The observed sites.
    public var observedSites: [Site] { sites.filter { $0.kind == .observed } }

    /// `log p(all values) = sum over random sites of scale * sum(logProb)`.
    public var logJoint: Tensor {
        sites.compactMap(\.scaledLogProb).reduce(Tensor(0)) { $0 + $1.sum() }
    }

    /// The deepest batch rank of any random site (plates and distribution batch dimensions).
    public var maximumBatchRank: Int {
        sites.filter { $0.distribution != nil }.map { site in
            Swift.max(site.batchShape.count, site.plates.map { -$0.dim }.max() ?? 0)
        }.max() ?? 0
    }

    mutating func append(_ site: Site) {
        index[site.name] = sites.count
        sites.append(site)
    }
}

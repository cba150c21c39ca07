import Distributions
import PPL
import TensorCore

/// How the ELBO treats one latent site.
public enum Estimator: String, Sendable, CustomStringConvertible {
    /// Reparameterized Monte Carlo: `log p(z) - log q(z)` at `z = g(eps, phi)` (SGVB estimator A, eq. 6).
    case reparameterized = "reparameterized"
    /// Closed-form `-KL(q || p)` (SGVB estimator B, eq. 7), averaged over the guide's
    /// enumerated values when the prior depends on them.
    case analyticKL = "analytic KL"
    /// Exact sum over the site's finite support, weighted by the guide's `q`.
    case enumerated = "enumerated"
    /// No guide: the site is summed out of the model exactly (variable elimination).
    case marginalized = "summed out"
    /// Score function (REINFORCE), each datapoint's own cost against a moving-average baseline.
    case scoreFunction = "score function"

    public var description: String { rawValue }
}

/// The compiled recipe for one latent site of the model: where its guide gets its inputs,
/// which family it is, and how the ELBO estimates its term.
public struct GuideSite: CustomStringConvertible {
    /// The model's site.
    public let name: String
    /// Where the site is written in the model.
    public let location: SourceLocation
    /// The data plate the site is local to, or nil for a global site.
    public let plate: PlateFrame?
    /// All the plates around the model's site (the guide's site is placed in the same ones).
    let plates: [PlateFrame]
    /// What the head is fed: `data` and the upstream latent sites (empty: free parameters).
    public let inputs: [String]
    /// The guide family, nil for a site summed out of the model.
    let guideFamily: (any GuideFamily)?
    public let estimator: Estimator
    /// Learnable numbers of this site's head (its share of a shared trunk not counted).
    public internal(set) var parameterCount: Int
    /// The site's shapes and support as the family sees them.
    let shape: SiteShape
    /// Sizes of a local head's hidden layers.
    public let hiddenSizes: [Int]
    /// True for a site observed in some rows (`observe(name, value, where: mask)`).
    public let isPartlyObserved: Bool

    /// The shape of one value of the site: one row's for a local site, the whole for a global one.
    public var valueShape: [Int] { shape.valueShape }
    /// The guide family's name (`Normal`, `Categorical(3)`), or `none` for a summed-out site.
    public var family: String { guideFamily?.description ?? "none" }
    /// The bijector from the head's unconstrained output onto the site's support.
    public var bijectorName: String { guideFamily?.bijectorName ?? "-" }
    /// True for a site the guide samples or enumerates (not summed out of the model).
    public var isGuided: Bool { guideFamily != nil }
    /// The `inputs` as the plan prints them.
    public var inputDescription: String {
        if guideFamily == nil { return "-" }
        return inputs.isEmpty ? "none (free parameters)" : inputs.joined(separator: " + ")
    }

    public var description: String {
        let scope = plate.map { "local to plate '\($0.name)'" } ?? "global"
        return "\(name) (\(location)): \(scope); input \(inputDescription); \(family) head, bijector \(bijectorName); \(estimator); \(parameterCount) parameters"
    }
}

/// The whole compiled guide: one entry per latent site, in the model's order.
public struct GuidePlan: CustomStringConvertible {
    public let model: String
    public let sites: [GuideSite]
    /// Batch rank of the model (plates and batch dimensions), left of which enumeration goes.
    public let maximumBatchRank: Int
    /// The data plate of the model, if it has one.
    public let dataPlate: PlateFrame?
    /// The model's observed sites when it was compiled, which every minibatch must observe
    /// (all inside the data plate), each with where the rows lie in its value: the axis counted
    /// from the last (its event axes, then the data plate's dimension); nil for a value that
    /// does not hold one entry a row there (one shared by every row, say).
    var observedSites: [String: Int?] = [:]
    /// Each site's index in `sites`.
    private let positions: [String: Int]

    init(model: String, sites: [GuideSite], maximumBatchRank: Int, dataPlate: PlateFrame?) {
        self.model = model
        self.sites = sites
        self.maximumBatchRank = maximumBatchRank
        self.dataPlate = dataPlate
        positions = Dictionary(sites.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The entry for `name`.
    public subscript(name: String) -> GuideSite? { positions[name].map { sites[$0] } }

    /// Total learnable numbers of the guide.
    public var parameterCount: Int { sites.map(\.parameterCount).reduce(0, +) }

    /// The sites the guide samples or enumerates.
    var guidedSites: [GuideSite] { sites.filter(\.isGuided) }
    /// The guided sites observed in some rows.
    var partlyObservedNames: Set<String> { Set(sites.filter { $0.isGuided && $0.isPartlyObserved }.map(\.name)) }

    public var description: String {
        var lines = ["guide for model '\(model)' (\(parameterCount) parameters):"]
        let columns = ["site", "scope", "input", "head", "bijector", "estimator", "parameters"]
        let rows = sites.map { site -> [String] in
            [site.name, site.plate.map { "local (\($0.name))" } ?? "global", site.inputDescription, site.family,
             site.bijectorName, site.estimator.description, String(site.parameterCount)]
        }
        let widths = columns.indices.map { i in ([columns[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "  " + cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.append(line(columns))
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}

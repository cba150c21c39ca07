import Distributions
import PPL
import TensorCore

/// How the ELBO treats one latent site.
public enum Estimator: String, Sendable, CustomStringConvertible {
    /// Reparameterized Monte Carlo: `log p(z) - log q(z)` at `z = g(eps, phi)` (SGVB estimator A, eq. 6).
    case reparameterized = "reparameterized"
    /// Closed-form `-KL(q || p)` (SGVB estimator B, eq. 7).
    case analyticKL = "analytic KL"
    /// Exact sum over the finite support, weighted by q.
    case enumerated = "enumerated"
    /// Score function (REINFORCE) with a moving-average baseline.
    case scoreFunction = "score function"

    public var description: String { rawValue }
}

/// The guide family of a site: what the head outputs and how they become `q`.
public enum GuideFamily: Sendable, CustomStringConvertible, Equatable {
    /// Diagonal normal on the unconstrained space, pushed onto the support by the bijector.
    case normal
    /// Full-covariance normal (a Cholesky factor head) on real vectors.
    case multivariateNormal
    /// Categorical over `count` categories.
    case categorical(count: Int)
    /// Independent Bernoulli variables.
    case bernoulli
    /// Independent Poisson variables (rates by softplus).
    case poisson
    /// A point estimate (MAP), pushed onto the support by the bijector.
    case delta
    /// A distribution of a hand-written guide, by type name.
    case handWritten(String)

    public var description: String {
        switch self {
        case .normal: return "Normal"
        case .multivariateNormal: return "MultivariateNormal"
        case let .categorical(count): return "Categorical(\(count))"
        case .bernoulli: return "Bernoulli"
        case .poisson: return "Poisson"
        case .delta: return "Delta"
        case let .handWritten(name): return name
        }
    }
}

/// The compiled recipe for one latent site of the model.
public struct GuideSite: CustomStringConvertible {
    /// The model's site.
    public let name: String
    /// The data plate the site is local to, or nil for a global site.
    public let plate: PlateFrame?
    /// What the head is fed: the data, upstream latents, or nothing (mean-field parameters).
    public let input: String
    public let family: GuideFamily
    /// The bijector from the head's unconstrained output onto the site's support.
    public let bijectorName: String
    public let estimator: Estimator
    /// Learnable numbers of this site's head (its share of a shared trunk not counted).
    public var parameterCount: Int
    /// The site's support.
    public let support: Constraint
    /// Shape of one datapoint's value (local), or of the whole value (global).
    public let valueShape: [Int]
    /// Shape of the unconstrained value per datapoint (the simplex loses one entry).
    public let unconstrainedShape: [Int]
    /// Event rank of the model's distribution at the site.
    public let eventRank: Int
    /// Sizes of the head's hidden layers.
    public let hiddenSizes: [Int]

    public var description: String {
        let scope = plate.map { "local to plate '\($0.name)'" } ?? "global"
        return "\(name): \(scope); input \(input); \(family) head, bijector \(bijectorName); \(estimator); \(parameterCount) parameters"
    }
}

/// The whole compiled guide: one entry per latent site, in the model's order.
public struct GuidePlan: CustomStringConvertible {
    public let model: String
    public let sites: [GuideSite]
    /// Batch rank of the model (plates and batch dimensions), left of which enumeration goes.
    public let maximumBatchRank: Int

    /// The entry for `name`.
    public subscript(name: String) -> GuideSite? { sites.first { $0.name == name } }

    /// Total learnable numbers of the guide.
    public var parameterCount: Int { sites.map(\.parameterCount).reduce(0, +) }

    public var description: String {
        var lines = ["guide for model '\(model)' (\(parameterCount) parameters):"]
        let columns = ["site", "scope", "input", "head", "bijector", "estimator", "parameters"]
        let rows = sites.map { site -> [String] in
            [site.name, site.plate.map { "local (\($0.name))" } ?? "global", site.input, site.family.description,
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

import Distributions
import TensorCore

/// Where a site is written in the user's model file.
public struct SourceLocation: CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int

    public init(file: StaticString, line: UInt) {
        self.file = "\(file)"
        self.line = Int(line)
    }

    /// A location given as text (for sites made by the library itself).
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { line > 0 ? "\(file):\(line)" : file }
}

/// What a site is.
public enum SiteKind: String, Sendable {
    /// A random variable the model samples: `latent(name) ~ distribution`.
    case latent
    /// A random variable conditioned on data: `observe(name, value) ~ distribution`.
    case observed
    /// A learnable point parameter: `param(name, initial)`.
    case param
    /// A recorded function of other values: `deterministic(name, value)`.
    case deterministic
}

/// A conditional-independence context: the site is one of `size` independent copies along
/// batch dimension `dim` (negative, counted from the right), of which `subsampleSize` are
/// present, so its log-probability is scaled by `size / subsampleSize`.
public struct PlateFrame: Sendable, Equatable {
    public let name: String
    public let size: Int
    public let subsampleSize: Int
    public let dim: Int
    /// True for the plate declared with `subsample:`: the rows of the data, which the training
    /// loop cuts into minibatches and the compiler gives encoders.
    public let isDataPlate: Bool

    public init(name: String, size: Int, subsampleSize: Int, dim: Int, isDataPlate: Bool = false) {
        self.name = name
        self.size = size
        self.subsampleSize = subsampleSize
        self.dim = dim
        self.isDataPlate = isDataPlate
    }

    /// `size / subsampleSize`, the factor that makes a minibatch stand for the whole plate.
    public var scale: Float { Float(size) / Float(Swift.max(subsampleSize, 1)) }
}

/// Step `step` of the Markov chain `chain`, whose sites depend on at most the `history`
/// steps before it (see `markov`).
public struct MarkovStep: Sendable, Equatable {
    public let chain: String
    public let step: Int
    public let history: Int
}

/// The record of one site passed through the handler stack: every effect handler reads and
/// rewrites it, and the default behaviour at the bottom of the stack fills in what is left.
public struct Message {
    /// The site's unique name.
    public var name: String
    public var kind: SiteKind
    /// The distribution of a latent or observed site.
    public var distribution: (any Distribution)?
    /// The value: the observation, a replayed or substituted value, or the draw.
    public var value: Tensor?
    /// True when the value is data rather than a draw.
    public var isObserved: Bool
    /// Multiplies the log-probability (N/M under subsampling, or a user's `scale`).
    public var scale: Float = 1
    /// Elementwise mask for the log-probability (1 keeps, 0 drops), broadcast to its shape.
    public var mask: Tensor?
    /// The plates around the site, outermost first.
    public var plates: [PlateFrame] = []
    /// Set by `enumerate`: the batch dimension holding the site's enumerated values.
    public var enumerationDim: Int?
    /// Set by `enumerate`: which enumerated site each enumeration dimension holds at this
    /// point of the run (dimensions are reused along a Markov chain).
    public var enumeratedVariables: [Int: String] = [:]
    /// Set by `markov`: the chain step the site belongs to.
    public var markovStep: MarkovStep?
    /// For a site observed in some rows only (`observe(name, value, where: mask)`): the values
    /// and where they hold; the value decided for the site keeps them there.
    public var partialObservation: PartialObservation?
    /// For parameter sites: the set the value lives in (stored unconstrained).
    public var constraint: Constraint = .real
    /// For parameter sites: draws the initial value (from the site's generator when a `seed`
    /// handler gave one), called only if the store has none.
    public var initialValue: ((inout RandomGenerator) -> Tensor)?
    /// The generator a `seed` handler provides for this site's draw.
    public var generator: GeneratorBox?
    /// Set by `block`: handlers further out do not see the site.
    public var stop = false
    /// Where the site is written.
    public var location: SourceLocation

    public init(name: String, kind: SiteKind, distribution: (any Distribution)? = nil, value: Tensor? = nil, isObserved: Bool = false, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.distribution = distribution
        self.value = value
        self.isObserved = isObserved
        self.location = location
    }
}

/// The observed part of a partly observed site: `value` holds where `mask` is 1 (the mask has
/// the site's batch shape; the value its batch and event shape).
public struct PartialObservation {
    public let value: Tensor
    public let mask: Tensor

    public init(value: Tensor, mask: Tensor) {
        self.value = value
        self.mask = mask
    }

    /// `candidate` with the observed entries put in: `select(mask, value, candidate)`, the
    /// mask given trailing axes for `eventRank` event axes.
    package func merged(into candidate: Tensor, eventRank: Int) -> Tensor {
        let mask = eventRank == 0 ? self.mask : self.mask.reshaped(to: self.mask.shape + [Int](repeating: 1, count: eventRank))
        return select(mask, value, candidate)
    }
}

/// A random generator shared by reference between a `seed` handler and the sites it serves.
public final class GeneratorBox {
    public var generator: RandomGenerator
    public init(_ generator: RandomGenerator) { self.generator = generator }
}

extension Message {
    /// A draw of this site's `distribution` from `box` (`rsample` when `reparameterized`); when
    /// the process holds a share of the minibatch, the draw runs along the data plate's rows.
    public func draw(_ distribution: any Distribution, from box: GeneratorBox, reparameterized: Bool) -> Tensor {
        let saved = box.generator.rowShare
        defer { box.generator.rowShare = saved }
        if saved != nil { box.generator.rowShare?.axis = rowAxis(of: distribution) }
        return reparameterized ? distribution.rsample([], using: &box.generator) : distribution.sample([], using: &box.generator)
    }

    /// The axis of the data plate's rows in a draw of `distribution` here, if it has one.
    func rowAxis(of distribution: any Distribution) -> Int? {
        guard let frame = plates.first(where: \.isDataPlate) else { return nil }
        let position = distribution.batchShape.count + frame.dim
        return position >= 0 ? position : nil
    }
}

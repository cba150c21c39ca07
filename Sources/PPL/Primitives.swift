import Distributions
import NN
import TensorCore

precedencegroup SamplingPrecedence {
    associativity: none
    lowerThan: TernaryPrecedence
    higherThan: AssignmentPrecedence
}

/// `site ~ distribution`: draws (or observes) the site's value from `distribution`.
infix operator ~ : SamplingPrecedence

/// A latent site awaiting its distribution: `latent("z") ~ Normal(0, 1)`.
public struct LatentSite {
    let name: String
    let location: SourceLocation

    /// Samples the site from `distribution` and returns its value (a draw, or whatever a
    /// handler put there: a replayed value, an enumerated support, a guide's sample).
    public static func ~ (site: LatentSite, distribution: some Distribution) -> Tensor {
        let message = HandlerStack.apply(Message(name: site.name, kind: .latent, distribution: distribution, location: site.location))
        return message.value ?? Tensor.full(distribution.batchShape + distribution.eventShape, .nan)
    }
}

/// An observed site awaiting its distribution: `observe("x", x) ~ Bernoulli(logits: l)`.
public struct ObservedSite {
    let name: String
    let value: Tensor
    let location: SourceLocation

    /// Conditions the model on the site's value under `distribution`; returns the value.
    @discardableResult
    public static func ~ (site: ObservedSite, distribution: some Distribution) -> Tensor {
        let message = HandlerStack.apply(Message(name: site.name, kind: .observed, distribution: distribution, value: site.value, isObserved: true, location: site.location))
        return message.value ?? site.value
    }
}

/// A site observed in some rows and latent in the others, awaiting its distribution.
public struct PartlyObservedSite {
    let name: String
    let observation: PartialObservation
    let location: SourceLocation

    /// Conditions on the observed rows and samples (or enumerates, or takes from the guide) the
    /// others; returns the value with both.
    public static func ~ (site: PartlyObservedSite, distribution: some Distribution) -> Tensor {
        var message = Message(name: site.name, kind: .latent, distribution: distribution, location: site.location)
        message.partialObservation = site.observation
        let batch = distribution.batchShape
        if Shape.broadcast(site.observation.mask.shape, batch) == nil || Shape.broadcast(site.observation.value.shape, batch + distribution.eventShape) == nil {
            recordDeferredError(ModelError.observationShape(site: site.name, expected: batch + distribution.eventShape, got: site.observation.value.shape, location: site.location))
        }
        // A mask of 0.5 chose the known value by select, as if it were 1.
        if let bad = site.observation.mask.uncountedScalars.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            recordDeferredError(ModelError.badMask(site: site.name, index: bad, value: site.observation.mask.uncountedScalars[bad], location: site.location))
        }
        let result = HandlerStack.apply(message)
        return result.value ?? Tensor.full(distribution.batchShape + distribution.eventShape, .nan)
    }
}

/// Observes `value` where `mask` is 1 and leaves the site latent where it is 0: labels known for
/// some rows only (Kingma et al. 2014's semi-supervised model). Complete it with
/// `~ distribution`; the guide infers the unobserved rows.
///
/// ```swift
/// let y = observe("y", labels, where: isLabeled) ~ Categorical(probs: Tensor.ones([10]) / 10)
/// ```
public func observe(_ name: String, _ value: Tensor, where mask: Tensor, file: StaticString = #fileID, line: UInt = #line) -> PartlyObservedSite {
    PartlyObservedSite(name: ModelScope.qualified(name), observation: PartialObservation(value: value, mask: mask), location: SourceLocation(file: file, line: line))
}

/// Names a latent random variable; complete it with `~ distribution`.
public func latent(_ name: String, file: StaticString = #fileID, line: UInt = #line) -> LatentSite {
    LatentSite(name: ModelScope.qualified(name), location: SourceLocation(file: file, line: line))
}

/// A latent site written at `location`: a compiled guide's site, which an error names by the
/// line of the model's site it stands for.
package func latent(_ name: String, at location: SourceLocation) -> LatentSite {
    LatentSite(name: ModelScope.qualified(name), location: location)
}

/// Names an observed random variable with its data; complete it with `~ distribution`.
public func observe(_ name: String, _ value: Tensor, file: StaticString = #fileID, line: UInt = #line) -> ObservedSite {
    ObservedSite(name: ModelScope.qualified(name), value: value, location: SourceLocation(file: file, line: line))
}

/// A learnable point parameter on `constraint`, stored unconstrained by the parameter store
/// and initialized to `initial` the first time the store sees it.
public func param(
    _ name: String, _ initial: @autoclosure @escaping () -> Tensor, constraint: Constraint = .real,
    file: StaticString = #fileID, line: UInt = #line
) -> Tensor {
    param(name, initializer: { _ in initial() }, constraint: constraint, file: file, line: line)
}

/// A learnable parameter whose initial value `initializer` draws at random (from the run's
/// seeded generator, so that a seeded run initializes identically).
public func param(
    _ name: String, initializer: @escaping (inout RandomGenerator) -> Tensor, constraint: Constraint = .real,
    file: StaticString = #fileID, line: UInt = #line
) -> Tensor {
    var message = Message(name: ModelScope.qualified(name), kind: .param, location: SourceLocation(file: file, line: line))
    message.constraint = constraint
    message.initialValue = initializer
    return HandlerStack.apply(message).value ?? Tensor.full([0], .nan)
}

/// Registers every parameter of `network` as a parameter site named `name.path`
/// (`decoder.layers.0.weight`) and returns the network bound to their values.
public func module<Network: Module>(_ name: String, _ network: Network, file: StaticString = #fileID, line: UInt = #line) -> Network {
    var values: [String: Tensor] = [:]
    for slot in network.parameterSlots {
        values[slot.path] = param("\(name).\(slot.path)", initializer: slot.initialize, file: file, line: line)
    }
    return network.binding(values)
}

/// Records `value` in the trace under `name` (a derived quantity) and returns it.
@discardableResult
public func deterministic(_ name: String, _ value: Tensor, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
    HandlerStack.apply(Message(name: ModelScope.qualified(name), kind: .deterministic, value: value, isObserved: true, location: SourceLocation(file: file, line: line))).value ?? value
}

/// The prefix of site names inside sub-models (`encoder/z`).
enum ModelScope {
    @TaskLocal static var prefix = ""

    static func qualified(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }
}

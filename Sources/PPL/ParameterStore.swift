import Distributions
import TensorCore

/// Learnable parameters by name, stored unconstrained: a parameter on `positive` is kept as
/// its log. As a handler it serves every `param` site inside, creating missing entries from
/// their initial values.
///
/// Training replaces the stored tensors by tracked copies for the length of one gradient step
/// (`setUnconstrained`), so gradients reach them through the bijectors, and lends them to the
/// optimizer for its in-place update (`updateUnconstrained`).
public final class ParameterStore: Handler {
    /// Unconstrained values by name, in the order first seen.
    public private(set) var unconstrained: [String: Tensor] = [:]
    public private(set) var names: [String] = []
    public private(set) var constraints: [String: Constraint] = [:]
    /// When false, a parameter the store does not hold is an error of the run instead of being
    /// initialized (restoring a checkpoint: nothing is drawn, nothing large is allocated).
    public var createsMissingParameters = true

    public init() {}

    /// The constrained value of the parameter called `name`.
    public subscript(name: String) -> Tensor? {
        guard let value = unconstrained[name] else { return nil }
        return constraints[name]?.bijector?.forward(value) ?? value
    }

    /// Replaces the unconstrained value of `name` (an optimizer's step, a checkpoint).
    public func setUnconstrained(_ name: String, _ value: Tensor) {
        if unconstrained[name] == nil { names.append(name) }
        unconstrained[name] = value
    }

    /// Lends the unconstrained values to `body` for an in-place update (an optimizer step):
    /// while lent, the store holds no reference, so the tensors are updated without copies.
    public func updateUnconstrained(_ body: (inout [String: Tensor]) throws -> Void) rethrows {
        var values = unconstrained
        unconstrained = [:]
        defer { unconstrained = values }
        try body(&values)
    }

    /// Why `initial` cannot start a parameter on `constraint` (nil when it can): a value that is
    /// not finite, or outside the set or on its edge, has no finite `unconstrained` value.
    static func problem(withInitial initial: Tensor, unconstrained: Tensor, constraint: Constraint) -> String? {
        if !initial.isFinite, let index = initial.uncountedScalars.firstIndex(where: { !$0.isFinite }) {
            return "its initial value is \(initial.uncountedScalars[index]) at element \(index); start it at a finite value"
        }
        guard !unconstrained.isFinite else { return nil }
        let elementwise = unconstrained.shape == initial.shape ? unconstrained.uncountedScalars.firstIndex { !$0.isFinite } : nil
        guard let index = constraint.firstViolation(in: initial) ?? elementwise else {
            return "its initial value is on the edge of its constraint (\(constraint)); start it inside"
        }
        return "its initial value \(initial.uncountedScalars[index]) at element \(index) is not inside its constraint (\(constraint)); start it inside, away from the edges"
    }

    public func process(_ message: inout Message) {
        guard message.kind == .param, message.value == nil else { return }
        let bijector = message.constraint.bijector ?? IdentityBijector()
        if unconstrained[message.name] == nil, !createsMissingParameters {
            recordDeferredError(ModelError.missingParameter(name: message.name, location: message.location))
            return
        }
        if unconstrained[message.name] == nil, let draw = message.initialValue {
            let initial = HandlerStack.initialDraw(message, draw)
            let value = withoutGradient { bijector.inverse(initial) }.detached
            if let problem = Self.problem(withInitial: initial, unconstrained: value, constraint: message.constraint) {
                recordDeferredError(ModelError.badParameter(name: message.name, reason: problem, location: message.location))
                return
            }
            names.append(message.name)
            constraints[message.name] = message.constraint
            unconstrained[message.name] = value
        }
        if let value = unconstrained[message.name] { message.value = bijector.forward(value) }
    }
}

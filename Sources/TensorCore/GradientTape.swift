import Synchronization

/// Reverse-mode automatic differentiation on whole tensors.
///
/// While a tape is recording, every operation whose inputs include a watched tensor appends
/// a node: the ids of its inputs and a pullback closure that maps the gradient of its output
/// to gradients of its inputs. The tape owns the nodes in an array; closures capture ids and
/// tensor values, never nodes, so nothing forms a reference cycle and all of it is freed with
/// the tape. `gradient(of:withRespectTo:)` walks the array backwards once.
public final class GradientTape: @unchecked Sendable {
    struct Node {
        /// Node ids of the inputs, nil for inputs that are not tracked.
        let inputs: [Int?]
        /// Gradient of the output to gradients of the tracked inputs (nil for untracked ones).
        let pullback: ((Tensor, InputsNeedingGradients) -> [Tensor?])?
    }

    private static let nextID = Atomic<Int>(1)

    let id: Int
    private(set) var nodes: [Node] = []

    @TaskLocal static var current: GradientTape?

    /// A new, empty tape.
    public init() {
        id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// A tracked copy of `tensor` (sharing its storage) whose gradient this tape can compute.
    public func watch(_ tensor: Tensor) -> Tensor {
        var tracked = tensor
        tracked.tracking = Tracking(tapeID: id, node: append(Node(inputs: [], pullback: nil)))
        return tracked
    }

    /// Runs `body` with this tape recording the operations on watched tensors.
    public func record<Result>(_ body: () throws -> Result) rethrows -> Result {
        try Self.$current.withValue(self) { try body() }
    }

    /// The gradient of the scalar `output` with respect to each of `inputs` (zeros for an
    /// input the output does not depend on). Reduces `output` by summation if it is not a scalar.
    public func gradient(of output: Tensor, withRespectTo inputs: [Tensor]) -> [Tensor] {
        guard let seed = node(of: output) else {
            return inputs.map { Tensor.zeros($0.shape) }
        }
        var gradients = [Tensor?](repeating: nil, count: nodes.count)
        gradients[seed] = Tensor.ones(output.shape)
        withoutGradient {
            for index in stride(from: seed, through: 0, by: -1) {
                guard let gradient = gradients[index], let pullback = nodes[index].pullback else { continue }
                let inputGradients = pullback(gradient, InputsNeedingGradients(nodes: nodes[index].inputs))
                for (input, inputGradient) in zip(nodes[index].inputs, inputGradients) {
                    guard let input, let inputGradient else { continue }
                    if let existing = gradients[input] {
                        gradients[input] = existing + inputGradient
                    } else {
                        gradients[input] = inputGradient
                    }
                }
                gradients[index] = nil
            }
        }
        return inputs.map { input in
            node(of: input).flatMap { gradients[$0] } ?? Tensor.zeros(input.shape)
        }
    }

    func node(of tensor: Tensor) -> Int? {
        guard let tracking = tensor.tracking, tracking.tapeID == id else { return nil }
        return tracking.node
    }

    func append(_ node: Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }
}

/// Where a tracked tensor sits on a tape.
struct Tracking: Sendable {
    let tapeID: Int
    let node: Int
}

/// Counts the reads of a tensor tracked by one tape as Swift numbers (`scalar`, `scalars`) while
/// it is the current one: a number that leaves the tape carries no gradient, so the compiler
/// looks for such reads of latents in a model.
package final class ValueReads: @unchecked Sendable {
    @TaskLocal package static var current: ValueReads?
    let tapeID: Int
    /// Whether `withoutGradient` keeps recording, so that values made inside it are followed.
    let recordsWithoutGradient: Bool
    package private(set) var count = 0

    package init(of tape: GradientTape, recordingWithoutGradient: Bool = false) {
        tapeID = tape.id
        recordsWithoutGradient = recordingWithoutGradient
    }

    func record(_ tracking: Tracking?) {
        if tracking?.tapeID == tapeID { count += 1 }
    }
}

extension Tensor {
    /// This tensor, also made from `others` though no gradient flows to them (a mask, a
    /// selection's choice): while a model's reads are counted (`ValueReads`) it is tracked with
    /// them, so that reading it as a number counts as reading them; untouched otherwise.
    package func tracked(alsoDependingOn others: [Tensor]) -> Tensor {
        guard others.contains(where: \.isTracked), ValueReads.current != nil else { return self }
        return recorded(inputs: [self] + others) { g, _ in [g] + others.map { _ in nil } }
    }
}

/// Runs `body` without recording any operation for differentiation (evaluation mode).
public func withoutGradient<Result>(_ body: () throws -> Result) rethrows -> Result {
    if ValueReads.current?.recordsWithoutGradient == true { return try body() }
    return try GradientTape.$current.withValue(nil) { try body() }
}

/// The value of `function` at `inputs` and its gradient with respect to each input.
///
/// Throws the first `TensorError` raised inside `function`, naming the operation and shapes.
public func valueWithGradient(
    at inputs: [Tensor], of function: ([Tensor]) throws -> Tensor
) throws -> (value: Tensor, gradients: [Tensor]) {
    let tape = GradientTape()
    let tracked = inputs.map(tape.watch)
    let value = try checkingTensorErrors { try tape.record { try function(tracked) } }
    return (value, tape.gradient(of: value, withRespectTo: tracked))
}

extension Tensor {
    /// Records `self` as the output of an operation on `inputs` when a tape is recording and
    /// some input is tracked on it. `pullback` receives the output gradient and which inputs
    /// need a gradient, and returns one gradient (or nil) per input.
    /// Whether an operation on `inputs` is recorded: a tape is current and tracks one of them.
    package static func isTracked(_ inputs: [Tensor]) -> Bool {
        guard let tape = GradientTape.current else { return false }
        return inputs.contains { tape.node(of: $0) != nil }
    }

    package func recorded(inputs: [Tensor], pullback: @escaping (Tensor, InputsNeedingGradients) -> [Tensor?]) -> Tensor {
        guard let tape = GradientTape.current else { return self }
        let ids = inputs.map { tape.node(of: $0) }
        guard ids.contains(where: { $0 != nil }) else { return self }
        var result = self
        result.tracking = Tracking(tapeID: tape.id, node: tape.append(.init(inputs: ids, pullback: pullback)))
        return result
    }
}

/// Which inputs of a taped operation need a gradient: `needs[i]` is true when input `i` is
/// tracked on the tape. It reads the node's own input list, so recording allocates nothing more.
package struct InputsNeedingGradients {
    let nodes: [Int?]

    package subscript(input: Int) -> Bool { nodes[input] != nil }
}

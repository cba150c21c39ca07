import TensorCore

/// One learnable tensor of a network: its path (`layers.0.weight`), shape and initializer.
public struct ParameterSlot {
    public let path: String
    public let shape: [Int]
    /// Draws the initial value.
    public let initialize: (inout RandomGenerator) -> Tensor

    public init(path: String, shape: [Int], initialize: @escaping (inout RandomGenerator) -> Tensor) {
        self.path = path
        self.shape = shape
        self.initialize = initialize
    }
}

/// A neural network as a value: the slots of its parameters, and a copy bound to values.
///
/// Networks are described first and bound to tensors later, so that a model can write
/// `module("decoder", MLP([20, 400, 784]))` on every run without drawing new weights: the
/// parameter store draws them once, on first use, and binds the stored (or trained) values.
public protocol Module {
    /// The parameters, in a fixed order.
    var parameterSlots: [ParameterSlot] { get }
    /// A copy whose parameters are `values[path]` for each slot.
    func binding(_ values: [String: Tensor]) -> Self
}

extension Module {
    /// A copy with freshly drawn initial parameters.
    public func initialized(using generator: inout RandomGenerator) -> Self {
        var values: [String: Tensor] = [:]
        for slot in parameterSlots { values[slot.path] = slot.initialize(&generator) }
        return binding(values)
    }

    /// A copy with initial parameters drawn from the global generator.
    public func initialized() -> Self {
        GlobalRandom.withGenerator { initialized(using: &$0) }
    }
}

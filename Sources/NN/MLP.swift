import TensorCore

/// A multilayer perceptron: `Linear` layers of the given sizes with `activation` between
/// them (and `outputActivation` after the last). `MLP([784, 400, 20])` has two layers.
public struct MLP: Module, Sendable {
    public let sizes: [Int]
    public let activation: Activation
    public let outputActivation: Activation
    public let layers: [Linear]

    /// An unbound network with layer sizes `sizes` (input first, output last).
    public init(_ sizes: [Int], activation: Activation = .relu, outputActivation: Activation = .identity) {
        self.init(sizes, activation, outputActivation, layers: zip(sizes, sizes.dropFirst()).map { Linear($0, $1) })
    }

    init(_ sizes: [Int], _ activation: Activation, _ outputActivation: Activation, layers: [Linear]) {
        self.sizes = sizes
        self.activation = activation
        self.outputActivation = outputActivation
        self.layers = layers
    }

    public var parameterSlots: [ParameterSlot] {
        layers.enumerated().flatMap { index, layer in
            layer.parameterSlots.map { ParameterSlot(path: "layers.\(index).\($0.path)", shape: $0.shape, initialize: $0.initialize) }
        }
    }

    public func binding(_ values: [String: Tensor]) -> MLP {
        let bound = layers.enumerated().map { index, layer in
            let prefix = "layers.\(index)."
            var own: [String: Tensor] = [:]
            for (path, value) in values where path.hasPrefix(prefix) { own[String(path.dropFirst(prefix.count))] = value }
            return layer.binding(own)
        }
        return MLP(sizes, activation, outputActivation, layers: bound)
    }

    /// The network applied to the last axis of `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (index, layer) in layers.enumerated() {
            h = layer(h)
            h = index == layers.count - 1 ? outputActivation(h) : activation(h)
        }
        return h
    }
}

import TensorCore

/// An elementwise nonlinearity between layers.
public enum Activation: Sendable, Equatable {
    case identity
    case relu
    case leakyRelu(Float)
    case elu
    case tanh
    case sigmoid
    case softplus

    /// The function applied to `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .identity: return x
        case .relu: return TensorCore.relu(x)
        case let .leakyRelu(slope): return TensorCore.leakyRelu(x, slope: slope)
        case .elu: return TensorCore.elu(x)
        case .tanh: return TensorCore.tanh(x)
        case .sigmoid: return TensorCore.sigmoid(x)
        case .softplus: return TensorCore.softplus(x)
        }
    }
}

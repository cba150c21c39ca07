import Foundation
import TensorCore

/// An affine layer `y = x W + b` with `W` of shape `[inputSize, outputSize]`.
///
/// Initialized as PyTorch does: `W` and `b` uniform in `+-1/sqrt(inputSize)`.
public struct Linear: Module, Sendable {
    public let inputSize: Int
    public let outputSize: Int
    /// `[inputSize, outputSize]`, nil until bound.
    public let weight: Tensor?
    /// `[outputSize]`, nil until bound.
    public let bias: Tensor?

    /// An unbound layer; bind it with `module(...)` inside a model or `initialized()`.
    public init(_ inputSize: Int, _ outputSize: Int) {
        self.init(inputSize, outputSize, weight: nil, bias: nil)
    }

    init(_ inputSize: Int, _ outputSize: Int, weight: Tensor?, bias: Tensor?) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.weight = weight
        self.bias = bias
    }

    public var parameterSlots: [ParameterSlot] {
        let bound = Float(1 / Double(Swift.max(inputSize, 1)).squareRoot())
        func uniform(_ shape: [Int]) -> (inout RandomGenerator) -> Tensor {
            { generator in Tensor.randomUniform(shape, using: &generator) * (2 * bound) - bound }
        }
        return [
            ParameterSlot(path: "weight", shape: [inputSize, outputSize], initialize: uniform([inputSize, outputSize])),
            ParameterSlot(path: "bias", shape: [outputSize], initialize: uniform([outputSize])),
        ]
    }

    public func binding(_ values: [String: Tensor]) -> Linear {
        Linear(inputSize, outputSize, weight: values["weight"], bias: values["bias"])
    }

    /// `x W + b` over the last axis of `x`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard let weight, let bias else {
            recordDeferredError(TensorError(operation: "Linear(\(inputSize), \(outputSize))", message: "parameters are not bound: register the layer with module(...) or call initialized()"))
            return Tensor.full(Array(x.shape.dropLast()) + [outputSize], .nan)
        }
        return affine(x, weight, bias)
    }
}

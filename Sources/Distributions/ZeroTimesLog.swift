import TensorCore

/// `x log y`, 0 wherever `x` is 0 (also where `y` is 0: the density of Beta(1, b) at 0 is
/// finite), with no NaN in the gradient there.
func xLogY(_ x: Tensor, _ y: Tensor) -> Tensor {
    x * log(select(x .== 0, Tensor(1), y))
}

/// `x log(1 + y)`, 0 wherever `x` is 0 (also where `y` is -1).
func xLog1pY(_ x: Tensor, _ y: Tensor) -> Tensor {
    x * log1p(select(x .== 0, Tensor(0), y))
}

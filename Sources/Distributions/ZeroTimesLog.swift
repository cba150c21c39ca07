import TensorCore

/// `x log y`, 0 where `x` and `y` are both 0 (the density of Beta(1, b) at 0 is finite), with
/// no NaN in the gradient there; elsewhere `x log y` with its gradient in both.
func xLogY(_ x: Tensor, _ y: Tensor) -> Tensor {
    x * log(select((x .== 0) * (y .== 0), Tensor(1), y))
}

/// `x log(1 + y)`, 0 where `x` is 0 and `y` is -1.
func xLog1pY(_ x: Tensor, _ y: Tensor) -> Tensor {
    x * log1p(select((x .== 0) * (y .== Tensor(-1)), Tensor(0), y))
}

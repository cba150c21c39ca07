import TensorCore

/// `x log y`, 0 where `x` and `y` are both 0 (the density of Beta(1, b) at 0 is finite), with
/// no NaN in the gradient there; elsewhere `x log y` with its gradient in both.
func xLogY(_ x: Tensor, _ y: Tensor) -> Tensor {
    x * log(select((x .== 0) * (y .== 0), Tensor(1), y))
}

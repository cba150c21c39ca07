import TensorCore

/// `log r` for a positive `r = 1 + u` given both ways: `log1p(u)` where `|u| <= 1/2` (r's
/// digits near 1 are in `u`), `log r` elsewhere (where `1 + u` would cancel); both branches
/// finite, so the gradient has no NaN.
func logOnePlus(_ u: Tensor, ratio: Tensor) -> Tensor {
    let near = abs(u) .<= Tensor(0.5)
    return select(near, log1p(select(near, u, Tensor(0))), log(select(near, Tensor(1), ratio)))
}

/// `log(x / y)` for positive `x` and `y`, as `logOnePlus((x - y) / y, ratio: x / y)`.
func logRatio(_ x: Tensor, _ y: Tensor) -> Tensor {
    logOnePlus((x - y) / y, ratio: x / y)
}

/// Stochastic gradient descent: `v = mu v + g`, then `p -= lr v` (or `p -= lr (g + mu v)` with
/// Nesterov's correction); `g` includes `weightDecay * p`.
struct SGDRule: UpdateRule {
    let momentum: Float
    let nesterov: Bool
    let weightDecay: Float
    var slotCount: Int { 1 }
    var squaredSlots: Set<Int> { [] }

    func apply(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ slots: [UnsafeMutablePointer<Float>], learningRate lr: Float, step: Int) {
        let v = slots[0]
        for i in 0..<n {
            let gi = g[i] + weightDecay * p[i]
            v[i] = momentum * v[i] + gi
            p[i] -= lr * (nesterov ? gi + momentum * v[i] : v[i])
        }
    }
}

/// Adagrad (Duchi et al. 2011), used by Kingma & Welling: `G += g^2`, `p -= lr g / (sqrt(G) + eps)`.
struct AdagradRule: UpdateRule {
    let weightDecay: Float
    let epsilon: Float
    var slotCount: Int { 1 }
    var squaredSlots: Set<Int> { [0] }

    func apply(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ slots: [UnsafeMutablePointer<Float>], learningRate lr: Float, step: Int) {
        let sum = slots[0]
        for i in 0..<n {
            let gi = g[i] + weightDecay * p[i]
            sum[i] += gi * gi
            p[i] -= lr * gi / (sum[i].squareRoot() + epsilon)
        }
    }
}

/// RMSProp: `s = alpha s + (1 - alpha) g^2`, the step `d = g / (sqrt(s) + eps)` (or
/// `g / sqrt(s + eps)`); without momentum `p -= lr d`, with it `v = mu v - lr d` and `p += v`
/// (or `p += mu v - lr d` with Nesterov's correction).
struct RMSPropRule: UpdateRule {
    let alpha: Float
    let weightDecay: Float
    let epsilon: Float
    let epsilonInsideRoot: Bool
    let momentum: Float
    let nesterov: Bool
    var slotCount: Int { momentum > 0 ? 2 : 1 }
    var squaredSlots: Set<Int> { [0] }

    func apply(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ slots: [UnsafeMutablePointer<Float>], learningRate lr: Float, step: Int) {
        let average = slots[0]
        for i in 0..<n {
            let gi = g[i] + weightDecay * p[i]
            average[i] = alpha * average[i] + (1 - alpha) * gi * gi
            let scaled = gi / (epsilonInsideRoot ? (average[i] + epsilon).squareRoot() : average[i].squareRoot() + epsilon)
            if momentum > 0 {
                let v = slots[1]
                v[i] = momentum * v[i] - lr * scaled
                p[i] += nesterov ? momentum * v[i] - lr * scaled : v[i]
            } else {
                p[i] -= lr * scaled
            }
        }
    }
}

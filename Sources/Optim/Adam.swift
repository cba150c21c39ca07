import CKernels
import Foundation
import TensorCore

/// Adam (Kingma & Ba 2015): `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
/// `p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`. With `clip`, each gradient element
/// is first limited to `[-clip, clip]` and the rate multiplied by `decay^(t-1)` (Pyro's ClippedAdam).
struct AdamRule: UpdateRule {
    let beta1: Float
    let beta2: Float
    let weightDecay: Float
    let epsilon: Float
    let clip: Float
    let decay: Float
    var slotCount: Int { 2 }
    var squaredSlots: Set<Int> { [1] }

    func apply(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ slots: [UnsafeMutablePointer<Float>], learningRate: Float, step: Int) {
        let t = Double(step)
        let correction1 = Float(1 - Foundation.pow(Double(beta1), t))
        let correction2 = Float(1 - Foundation.pow(Double(beta2), t))
        let lr = learningRate * Float(Foundation.pow(Double(decay), t - 1))
        latent_adam_update(p, g, slots[0], slots[1], Int64(n), lr, beta1, beta2, epsilon, weightDecay, clip, correction1, correction2)
    }
}


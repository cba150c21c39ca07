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

    func apply(_ n: Int, _ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ slots: [UnsafeMutablePointer<Float>], learningRate: Float, step: Int) {
        let t = Double(step)
        let correction1 = Float(1 - Foundation.pow(Double(beta1), t))
        let correction2 = Float(1 - Foundation.pow(Double(beta2), t))
        let lr = learningRate * Float(Foundation.pow(Double(decay), t - 1))
        let pointers = UncheckedPointers(p: p, g: g, m: slots[0], v: slots[1])
        let (b1, b2, eps, decay, clip) = (beta1, beta2, epsilon, weightDecay, clip)
        parallelChunks(n) { start, count in
            latent_adam_update(pointers.p + start, pointers.g + start, pointers.m + start, pointers.v + start, Int64(count),
                               lr, b1, b2, eps, decay, clip, correction1, correction2)
        }
    }
}

/// The four arrays of an Adam step, handed to worker threads that touch disjoint chunks.
struct UncheckedPointers: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>
    let g: UnsafePointer<Float>
    let m: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>
}

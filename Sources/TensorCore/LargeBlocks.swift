import CKernels

/// How blocks of tensor size are kept between allocations.
///
/// glibc maps a fresh block for every allocation above its threshold (128 KB at first) and
/// returns the top of its heap to the system once more than twice that is free there. A
/// training step frees and makes again tensors of a few hundred KB to a few MB, so both
/// policies cost page faults on every step: about 215 per step of the 784-400-20 VAE at batch
/// 128, 8 to 17% of its time on a 2-core host. Blocks up to 32 MB are kept in the heap instead,
/// and up to 64 MB of free heap stays for the next step; peak memory does not change.
/// The thresholds belong to the process: a program that links Latent has them set as well.
enum LargeBlocks {
    /// Tensors of at least this many elements (128 KB) are large enough to be mapped.
    static let elementCount = 128 * 1024 / MemoryLayout<Float>.stride

    /// Sets the allocator's thresholds; evaluated once, when the first large tensor is made.
    static let keptInHeap: Void = latent_keep_blocks_in_heap(32 << 20, 64 << 20)
}

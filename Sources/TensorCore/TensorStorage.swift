/// A contiguous, 64-byte-aligned buffer of `Float`s shared by the tensors that view it.
///
/// Tensors hold their storage by reference and copy it before writing when it is shared
/// (copy-on-write), so `Tensor` has value semantics. The elements live in the same heap
/// block as the object (one allocation per tensor, from the allocator's small-size caches
/// when the tensor is small), aligned to 64 bytes inside it.
final class TensorStorage: ManagedBuffer<TensorStorage.Layout, Float> {
    /// The element count and where the aligned elements start inside the block.
    struct Layout {
        let count: Int
        let pointer: UnsafeMutablePointer<Float>
        /// Set once the storage holds a value a model may not read as numbers (`GuardedValues`).
        var isGuarded = false
    }

    /// Floats of padding that let the elements start on a 64-byte boundary.
    private static let alignmentSlack = 64 / MemoryLayout<Float>.stride - 1

    /// Uninitialized storage for `count` floats.
    static func uninitialized(count: Int) -> TensorStorage {
        if count >= LargeBlocks.elementCount { LargeBlocks.keptInHeap }
        TensorMemory.allocated(count)
        let block = create(minimumCapacity: count + alignmentSlack) { block in
            let start = block.withUnsafeMutablePointerToElements { UInt(bitPattern: $0) }
            let aligned = (start + 63) & ~UInt(63)
            return Layout(count: count, pointer: UnsafeMutablePointer(bitPattern: aligned)!)
        }
        return unsafeDowncast(block, to: TensorStorage.self)
    }

    /// `count` copies of `value`.
    static func repeating(_ value: Float, count: Int) -> TensorStorage {
        let storage = uninitialized(count: count)
        storage.pointer.initialize(repeating: value, count: count)
        return storage
    }

    /// The elements of `scalars`.
    static func copying(_ scalars: [Float]) -> TensorStorage {
        let storage = uninitialized(count: scalars.count)
        scalars.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.pointer.initialize(from: base, count: scalars.count) }
        }
        return storage
    }

    deinit { TensorMemory.freed(header.count) }

    var count: Int { header.count }

    var pointer: UnsafeMutablePointer<Float> { header.pointer }

    /// Whether a model run guards these elements against reads as numbers (`GuardedValues`).
    var isGuarded: Bool {
        get { header.isGuarded }
        set { header.isGuarded = newValue }
    }

    func copy() -> TensorStorage {
        let result = TensorStorage.uninitialized(count: count)
        result.pointer.initialize(from: pointer, count: count)
        return result
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}

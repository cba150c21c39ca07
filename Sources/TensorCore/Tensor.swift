import CKernels

/// An n-dimensional array of `Float`s in row-major order, with value semantics.
///
/// Copies share storage until one of them is written (copy-on-write). Integer-valued
/// tensors (component indices, counts, masks of 0 and 1) hold exact integers up to 2^24.
/// Operations follow NumPy's broadcasting rules and record themselves for reverse-mode
/// differentiation when a `GradientTape` is recording.
public struct Tensor: @unchecked Sendable {
    var storage: TensorStorage
    /// The size of each dimension; `[]` for a scalar.
    public private(set) var shape: [Int]
    var tracking: Tracking?

    init(storage: TensorStorage, shape: [Int]) {
        self.storage = storage
        self.shape = shape
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    ///
    /// A negative dimension or a count that does not match the shape is a `TensorError`.
    public init(shape: [Int], scalars: [Float]) {
        guard let count = Shape.checkedCount(shape), count == scalars.count else {
            let needed = Shape.checkedCount(shape).map(String.init) ?? "an impossible number of"
            self = Tensor.failure("Tensor(shape:scalars:)", "shape \(Shape.describe(shape)) needs \(needed) scalars, got \(scalars.count)", shape: shape)
            return
        }
        self.init(storage: TensorStorage.copying(scalars), shape: shape)
    }

    /// A scalar (rank-0) tensor.
    public init(_ scalar: Float) {
        self.init(storage: TensorStorage.repeating(scalar, count: 1), shape: [])
    }

    /// A vector.
    public init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A matrix from its rows; rows of different lengths are a `TensorError`.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        guard rows.allSatisfy({ $0.count == columns }) else {
            self = Tensor.failure("Tensor(rows)", "rows have different lengths \(rows.map(\.count))", shape: [rows.count, columns])
            return
        }
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// A tensor of `shape` with every element equal to `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        switch TensorMemory.count(allocating: shape) {
        case let .failure(refusal): return failure("full", refusal.message, shape: shape)
        case let .success(count): return Tensor(storage: TensorStorage.repeating(value, count: count), shape: shape)
        }
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// The integers `0, 1, ..., count - 1` as a vector.
    public static func arange(_ count: Int) -> Tensor {
        Tensor(shape: [Swift.max(count, 0)], scalars: (0..<Swift.max(count, 0)).map(Float.init))
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Number of elements.
    public var count: Int { storage.count }

    /// The elements in row-major order (a read that the compiler's check of a model counts,
    /// as `scalar`'s; `detached.scalars` is not counted).
    public var scalars: [Float] {
        if let tracking { ValueReads.current?.record(tracking) }
        let elements = Array(storage.buffer)
        // A guarded value's run throws after it; as many numbers as its site has outside
        // enumeration, so that indexing them by row does not stop the program first.
        if let count = GuardedValues.noteRead(of: storage), count > elements.count, count <= 1 << 24 {
            return elements + repeatElement(elements.first ?? 0, count: count - elements.count)
        }
        return elements
    }

    /// The elements in row-major order, read by the library itself (an index, a check against
    /// a support, a printout): a read that no check of a model counts (`ValueReads`,
    /// `GuardedValues`), so one that decides nothing a model computes.
    package var uncountedScalars: [Float] { Array(storage.buffer) }

    /// The same elements in storage of their own.
    package func copied() -> Tensor {
        Tensor(storage: storage.copy(), shape: shape)
    }

    /// The single element of a one-element tensor; NaN (and a `TensorError`) otherwise. A
    /// guarded value (`GuardedValues`) gives its first element, so that a conversion such as
    /// `Int(c.scalar)` does not stop the program before its run reports the read.
    public var scalar: Float {
        if GuardedValues.noteRead(of: storage) != nil { return count > 0 ? storage.pointer[0] : 0 }
        guard count == 1 else {
            _ = Tensor.failure("scalar", "tensor of shape \(Shape.describe(shape)) has \(count) elements, expected 1", shape: [])
            return .nan
        }
        if let tracking { ValueReads.current?.record(tracking) }
        return storage.pointer[0]
    }

    /// Whether a tape records what is made from this tensor.
    package var isTracked: Bool { tracking != nil }

    /// Whether `other` is this very tensor: the same storage, shape and place on the tape.
    package func isIdentical(to other: Tensor) -> Bool {
        storage === other.storage && shape == other.shape && tracking?.tapeID == other.tracking?.tapeID && tracking?.node == other.tracking?.node
    }

    /// The same values, no longer tracked for differentiation (a constant to later operations).
    public var detached: Tensor {
        var result = self
        result.tracking = nil
        return result
    }

    /// True when every element is finite (no NaN, no infinity); large tensors are checked in
    /// one contiguous chunk per thread.
    public var isFinite: Bool {
        let n = count
        guard n >= elementsWorthSplitting, ComputeThreads.count > 1 else { return latent_all_finite(storage.pointer, Int64(n)) != 0 }
        let parts = ComputeThreads.count
        var finite = [Bool](repeating: true, count: parts)
        finite.withUnsafeMutableBufferPointer { flags in
            let pointers = UncheckedSendable((storage.pointer, flags.baseAddress!))
            parallelFor(parts) { part in
                let (start, end) = (n * part / parts, n * (part + 1) / parts)
                pointers.value.1[part] = latent_all_finite(pointers.value.0 + start, Int64(end - start)) != 0
            }
        }
        return !finite.contains(false)
    }

    /// The flat index of the first element outside `lower...upper`, or not an integer when
    /// `integral` (NaN lies outside every range); nil when every element lies inside.
    package func firstIndex(outside lower: Float, _ upper: Float, integral: Bool = false) -> Int? {
        let index = latent_first_outside(storage.pointer, Int64(count), lower, upper, integral ? 1 : 0)
        return index < 0 ? nil : Int(index)
    }

    /// A tensor of `shape` whose elements are written by `body` (which must write all of them).
    /// A shape with a negative dimension or too many elements is a `TensorError`.
    package static func build(_ shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let count: Int
        switch TensorMemory.count(allocating: shape) {
        case let .failure(refusal): return failure("allocate", refusal.message, shape: shape)
        case let .success(allowed): count = allowed
        }
        let storage = TensorStorage.uninitialized(count: count)
        body(storage.pointer)
        return Tensor(storage: storage, shape: shape)
    }

    /// The same storage seen with another shape of the same element count.
    func viewed(as newShape: [Int]) -> Tensor {
        Tensor(storage: storage, shape: newShape)
    }

    /// Write access to the elements in place, copying the storage first if it is shared
    /// (copy-on-write). For optimizers' fused updates; the tensor loses its tape tracking.
    package mutating func withMutableElements<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        tracking = nil
        return try body(storage.pointer)
    }

    /// Read access to the elements, in row-major order.
    package func withElements<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try body(storage.pointer)
    }
}

extension Tensor: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// A scalar tensor from a literal: `let half: Tensor = 0.5`.
    public init(floatLiteral value: Float) { self.init(value) }
    /// A scalar tensor from a literal: `let one: Tensor = 1`.
    public init(integerLiteral value: Int) { self.init(Float(value)) }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the elements, nested by dimension (long tensors abbreviated).
    public var description: String {
        let values = uncountedScalars
        func format(_ axis: Int, _ offset: Int) -> String {
            if axis == shape.count { return "\(values[offset])" }
            let stride = Shape.count(Array(shape[(axis + 1)...]))
            let size = shape[axis]
            let shown = size > 8 ? [0, 1, 2, size - 3, size - 2, size - 1] : Array(0..<size)
            var parts = shown.map { format(axis + 1, offset + $0 * stride) }
            if size > 8 { parts.insert("...", at: 3) }
            return "[" + parts.joined(separator: ", ") + "]"
        }
        return "Tensor\(Shape.describe(shape)) " + format(0, 0)
    }
}

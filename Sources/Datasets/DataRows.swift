import TensorCore

/// The rows of a data set: numbers in memory, or a file's rows left on disk in their stored
/// type (bytes for images) and converted to Float a minibatch at a time, so that memory does
/// not grow with the data set. Either way a row reads as the same Float values.
public struct DataRows: RowSource, @unchecked Sendable {
    enum Storage {
        case memory(Tensor)
        case file(RowFile)
    }

    let storage: Storage
    /// The rows of the storage, in order (all of them when nil).
    let selection: [Int]?
    /// Binary rows: each value `x` read as `x > 0.5 ? 1 : 0`.
    let isThresholded: Bool
    /// The shape of one row (`[784]` for MNIST images flattened).
    public let rowShape: [Int]

    /// The rows of `tensor` (its first axis).
    public init(_ tensor: Tensor) {
        self.init(storage: .memory(tensor), selection: nil, isThresholded: false, rowShape: Array(tensor.shape.dropFirst()))
    }

    init(file: RowFile, rowShape: [Int]) {
        self.init(storage: .file(file), selection: nil, isThresholded: false, rowShape: rowShape)
    }

    private init(storage: Storage, selection: [Int]?, isThresholded: Bool, rowShape: [Int]) {
        self.storage = storage
        self.selection = selection
        self.isThresholded = isThresholded
        self.rowShape = rowShape
    }

    public var rowCount: Int {
        if let selection { return selection.count }
        switch storage {
        case let .memory(tensor): return tensor.shape.first ?? 1
        case let .file(file): return file.rowCount
        }
    }

    /// Numbers per row.
    public var rowSize: Int { Shape.count(rowShape) }

    /// True when the rows stay in a file and are read a minibatch at a time.
    public var isOnDisk: Bool {
        if case .file = storage { return true }
        return false
    }

    /// The rows at `indices` (each in `0..<rowCount`), shape `[indices.count] + rowShape`.
    public func rows(at indices: [Int]) throws -> Tensor {
        let stored = selection.map { selection in indices.map { selection[$0] } } ?? indices
        switch storage {
        case let .memory(tensor):
            return tensor.rows(at: stored)
        case let .file(file):
            var failure: (any Error)?
            var rows = Tensor.build([indices.count] + rowShape) { out in
                do { try file.read(stored, into: out) } catch { failure = error }
            }
            if let failure { throw failure }
            if isThresholded { Binarization.threshold.apply(to: &rows) }
            return rows
        }
    }

    /// The rows `range`, in order.
    public func rows(_ range: Range<Int>) throws -> Tensor { try rows(at: Array(range)) }

    /// Every row, in memory.
    public func tensor() throws -> Tensor { try rows(0..<rowCount) }

    /// The rows at `indices`, in that order, still where they are stored.
    public func selecting(_ indices: [Int]) -> DataRows {
        if case let .memory(tensor) = storage { return DataRows(tensor.rows(at: indices)) }
        return DataRows(storage: storage, selection: selection.map { selection in indices.map { selection[$0] } } ?? indices, isThresholded: isThresholded, rowShape: rowShape)
    }

    /// The rows binarized at 0.5 (`Binarization.threshold`), read so from now on.
    public func thresholded() -> DataRows {
        if case var .memory(tensor) = storage {
            Binarization.threshold.apply(to: &tensor)
            return DataRows(tensor)
        }
        return DataRows(storage: storage, selection: selection, isThresholded: true, rowShape: rowShape)
    }

    /// The first value outside [0, 1] and its row, or nil when all are grey levels (rows on disk
    /// are read through once, a megabyte at a time, unless they are bytes read as fractions of 255).
    public func firstValueOutsideUnitInterval() throws -> (value: Float, row: Int)? {
        if case let .file(file) = storage, file.element == .uint8, file.scale > 0, file.scale <= Float(1) / 255 { return nil }
        let perRow = Swift.max(rowShape.reduce(1, *), 1)
        let step = Swift.max(1, (1 << 18) / perRow)
        for start in stride(from: 0, to: rowCount, by: step) {
            let chunk = try rows(start..<Swift.min(start + step, rowCount))
            if let index = chunk.firstIndex(outside: 0, 1) { return (chunk.withElements { $0[index] }, start + index / perRow) }
        }
        return nil
    }

    /// Stored bytes are always finite; numbers in memory are checked.
    public var firstNonFiniteValue: String? {
        guard case let .memory(tensor) = storage else { return nil }
        return tensor.firstNonFiniteValue
    }
}

extension Binarization {
    /// Binarizes `x` in place; the threshold draws nothing.
    func apply(to x: inout Tensor) {
        var generator = RandomGenerator(seed: 0)
        apply(to: &x, using: &generator)
    }
}

/// Rows that training draws minibatches from by index: a tensor in memory, or a file read a
/// minibatch at a time, so that memory does not grow with the data set.
public protocol RowSource<Rows> {
    associatedtype Rows
    /// The number of rows.
    var rowCount: Int { get }
    /// The rows at `indices`, in that order; reading a file can fail.
    func rows(at indices: [Int]) throws -> Rows
    /// A description of the first value that is NaN or infinite, or nil when all are finite.
    var firstNonFiniteValue: String? { get }
}

extension Tensor {
    /// The rows at `indices` along the first axis: the tensor itself for all rows in order, a
    /// slice for a run of consecutive rows, else a gather.
    public func rows(at indices: [Int]) -> Tensor {
        let count = shape.first ?? 1
        if indices.count == count, indices.elementsEqual(0..<count) { return self }
        if let first = indices.first, indices.elementsEqual(first..<(first + indices.count)) { return slice(axis: 0, first..<(first + indices.count)) }
        return self[Tensor(indices.map(Float.init))]
    }
}

extension Tensor {
    /// The first value that is NaN or infinite and its row (first axis), or nil when all are finite.
    public var firstNonFiniteValue: String? {
        guard !isFinite, let index = firstIndex(outside: -.greatestFiniteMagnitude, .greatestFiniteMagnitude) else { return nil }
        let rows = shape.first ?? 1
        return "\(withElements { $0[index] }) at row \(index / Swift.max(count / Swift.max(rows, 1), 1))"
    }
}

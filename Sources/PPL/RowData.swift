import TensorCore

/// Data made of independent rows, which training cuts into minibatches: a `Tensor` (rows along
/// its first axis) or a `Table` of named columns (observations beside covariates).
public protocol RowData: RowSource, Sendable where Rows == Self {
    /// The rows at `indices`, in that order.
    func rows(_ indices: [Int]) -> Self
    /// Every number of each row, shape `[rowCount, features]`: what an encoder sees.
    var encoderInput: Tensor { get }
    /// The numbers of the named columns of each row (all of them when nil), `[rowCount, features]`;
    /// a name that is not a column is an error of the running model.
    func encoderInput(columns: [String]?) -> Tensor
}

extension RowData {
    /// The rows `range`, in order.
    public func rows(_ range: Range<Int>) -> Self { rows(Array(range)) }

    /// Rows in memory are read without failing.
    public func rows(at indices: [Int]) -> Self { rows(indices) }
}

extension Tensor: RowData {
    /// The length of the first axis (1 for a scalar).
    public var rowCount: Int { shape.first ?? 1 }

    public func rows(_ indices: [Int]) -> Tensor { rows(at: indices) }

    /// The rows flattened: shape `[rows, numbers per row]`.
    public var encoderInput: Tensor { reshaped(to: [rowCount, rank <= 1 ? 1 : count / Swift.max(rowCount, 1)]) }

    /// A tensor has no named columns: `columns` must be nil.
    public func encoderInput(columns: [String]?) -> Tensor {
        guard let columns else { return encoderInput }
        return .failure("encoder input", "columns \(columns) were chosen, but the data are one tensor, not a table", shape: encoderInput.shape)
    }
}

/// Named columns over the same rows: observations beside covariates, for models that take
/// several inputs per row (regression, a conditional VAE).
///
/// ```swift
/// let data = try Table(["x": covariates, "y": responses])
/// let regression = Model("regression") { (data: Table, n: Int) in
///     let w = latent("w") ~ Normal(0, 1).expanded(to: [3]).independent(1)
///     plate("data", size: n, subsample: data) {
///         observe("y", data["y"]) ~ Normal(matmul(data["x"], w.unsqueezed(axis: -1)).reshaped(to: [-1]), 0.5)
///     }
/// }
/// ```
public struct Table: RowData {
    /// Column names, in the order given.
    public let names: [String]
    /// The columns, each with `rowCount` rows along its first axis.
    public let columns: [Tensor]

    /// A table of `columns`; every column must have the same number of rows.
    public init(_ columns: KeyValuePairs<String, Tensor>) throws {
        try self.init(names: columns.map(\.key), columns: columns.map(\.value))
    }

    /// A table of `columns` named `names`.
    public init(names: [String], columns: [Tensor]) throws {
        guard names.count == columns.count, Set(names).count == names.count, !names.isEmpty else {
            throw TableError(message: "a table needs one distinct name per column, got names [\(names.joined(separator: ", "))] for \(columns.count) columns")
        }
        let rows = columns[0].rowCount
        if let index = columns.firstIndex(where: { $0.rank == 0 || $0.rowCount != rows }) {
            throw TableError(message: "column '\(names[index])' has shape \(Shape.describe(columns[index].shape)), but column '\(names[0])' has \(rows) rows")
        }
        self.names = names
        self.columns = columns
    }

    /// The column called `name`; a missing name is an error of the running model.
    public subscript(name: String) -> Tensor {
        guard let index = names.firstIndex(of: name) else {
            return .failure("Table", "no column '\(name)' (the columns are \(names.joined(separator: ", ")))", shape: [rowCount])
        }
        return columns[index]
    }

    public var rowCount: Int { columns[0].rowCount }

    public func rows(_ indices: [Int]) -> Table {
        Table(checkedNames: names, columns: columns.map { $0.rows(indices) })
    }

    /// Every column flattened per row, side by side.
    public var encoderInput: Tensor { encoderInput(columns: nil) }

    /// The named columns (all when nil), flattened per row, side by side.
    public func encoderInput(columns chosen: [String]?) -> Tensor {
        let names = chosen ?? self.names
        let parts = names.map { self[$0].encoderInput }
        return parts.count == 1 ? parts[0] : Tensor.concatenate(parts, axis: 1)
    }

    public var firstNonFiniteValue: String? {
        for (name, column) in zip(names, columns) {
            if let value = column.firstNonFiniteValue { return "\(value) of column '\(name)'" }
        }
        return nil
    }

    init(checkedNames names: [String], columns: [Tensor]) {
        self.names = names
        self.columns = columns
    }
}

/// Columns that do not make a table.
public struct TableError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

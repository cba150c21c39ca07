import Foundation

/// A tensor operation that could not be carried out: a shape mismatch, a bad index or a
/// bad argument. The message names the operation and the shapes involved.
///
/// Tensor operations do not throw, so that model code reads like mathematics. A failing
/// operation returns a NaN-filled tensor of the shape it would have had and records the
/// first error in the innermost `checkingTensorErrors` scope, which throws it when the
/// scope ends. Outside any scope the error is printed to standard error once.
public struct TensorError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The operation that failed, for example `matmul` or `add`.
    public let operation: String
    /// What was expected and what was found.
    public let message: String

    public var description: String { "\(operation): \(message)" }

    /// An error of `operation` explained by `message`.
    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }
}

/// Collects the first error raised by a non-throwing operation (a tensor operation, a
/// distribution's parameter check) while a `checkingTensorErrors` scope is active.
final class TensorErrorLog: @unchecked Sendable {
    var first: (any Error)?

    @TaskLocal static var current: TensorErrorLog?

    private static let unscopedWarning = NSLock()
    nonisolated(unsafe) private static var warnedUnscoped = false

    /// Records `error` in the active scope, or warns once on standard error.
    static func record(_ error: any Error) {
        if let log = current {
            if log.first == nil { log.first = error }
            return
        }
        unscopedWarning.lock()
        defer { unscopedWarning.unlock() }
        guard !warnedUnscoped else { return }
        warnedUnscoped = true
        FileHandle.standardError.write(Data("latent: \(error) (result is NaN)\n".utf8))
    }
}

/// Records an error of a non-throwing operation for the enclosing `checkingTensorErrors`
/// scope to throw (the first one wins); outside any scope it is printed once.
package func recordDeferredError(_ error: any Error) {
    TensorErrorLog.record(error)
}

/// The first error recorded in the innermost scope so far, if any.
package func pendingDeferredError() -> (any Error)? {
    TensorErrorLog.current?.first
}

/// Replaces the first recorded error of the innermost scope with `transform(error)`, to add
/// context (the model site at which it arose).
package func annotateDeferredError(_ transform: (any Error) -> any Error) {
    guard let log = TensorErrorLog.current, let first = log.first else { return }
    log.first = transform(first)
}

/// Runs `body` and throws the first error that a tensor operation (or a distribution's
/// check of its parameters and values) inside it recorded.
///
/// Inference entry points run model code inside this scope, so a shape error in a model
/// becomes a thrown error naming the operation and both shapes, never a crash.
public func checkingTensorErrors<Result>(_ body: () throws -> Result) throws -> Result {
    let log = TensorErrorLog()
    let result = try TensorErrorLog.$current.withValue(log) { try body() }
    if let error = log.first { throw error }
    return result
}

extension Tensor {
    /// Records a failure of `operation` and returns a NaN tensor of `shape` to carry on with (a
    /// scalar when that shape is impossible or its memory would be refused too).
    package static func failure(_ operation: String, _ message: String, shape: [Int]) -> Tensor {
        TensorErrorLog.record(TensorError(operation: operation, message: message))
        let nonNegative = shape.map { Swift.max($0, 0) }
        var safeShape: [Int] = []
        if Shape.checkedCount(nonNegative, limit: 1 << 28) != nil, case .success = TensorMemory.count(allocating: nonNegative) { safeShape = nonNegative }
        return Tensor(storage: TensorStorage.repeating(.nan, count: Shape.count(safeShape)), shape: safeShape)
    }
}

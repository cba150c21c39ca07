import Distributions
import TensorCore

/// Declares that the sites inside `body` are `size` conditionally independent copies along
/// a batch dimension, of which the data hold `subsampleSize` (the whole plate when nil): their
/// log-probabilities are scaled by `size / subsampleSize`. Plates nest; the outermost takes
/// dimension -1 unless `dim` says otherwise, the next -2, and so on.
public func plate(
    _ name: String, size: Int, subsampleSize: Int? = nil, dim: Int? = nil,
    file: StaticString = #fileID, line: UInt = #line,
    @ModelBuilder _ body: () -> ModelOutput
) {
    let enclosing = HandlerStack.handlers.compactMap { ($0 as? PlateHandler)?.frame }
    let used = Set(enclosing.map(\.dim))
    var chosen = dim ?? -1
    if dim == nil { while used.contains(chosen) { chosen -= 1 } }
    let frame = PlateFrame(name: name, size: size, subsampleSize: subsampleSize ?? size, dim: chosen)
    let location = SourceLocation(file: file, line: line)
    if used.contains(chosen) {
        recordDeferredError(ModelError.plateConflict(plate: name, dim: chosen, location: location))
    }
    _ = PlateHandler(frame: frame).run(body)
}

/// A plate over a minibatch: `subsample` holds the batch's rows, `size` the rows of the full
/// data set (`plate("data", size: 60_000, subsample: x)` scales by 60,000 / x.shape[0]).
public func plate(
    _ name: String, size: Int, subsample: Tensor, dim: Int? = nil,
    file: StaticString = #fileID, line: UInt = #line,
    @ModelBuilder _ body: () -> ModelOutput
) {
    plate(name, size: size, subsampleSize: subsample.shape.first ?? 0, dim: dim, file: file, line: line, body)
}

/// The handler behind `plate`: adds its frame to every site inside, scales log-probabilities
/// by N/M, and broadcasts each site's distribution over the plate's dimension.
final class PlateHandler: Handler {
    let frame: PlateFrame

    init(frame: PlateFrame) {
        self.frame = frame
    }

    func process(_ message: inout Message) {
        message.plates.insert(frame, at: 0)
        message.scale *= Float(frame.size) / Float(Swift.max(frame.subsampleSize, 1))
        guard let distribution = message.distribution else { return }
        let batch = distribution.batchShape
        let rank = Swift.max(batch.count, -frame.dim)
        var target = [Int](repeating: 1, count: rank - batch.count) + batch
        let position = rank + frame.dim
        guard target[position] == 1 || target[position] == frame.subsampleSize else {
            recordDeferredError(ModelError.plateMismatch(site: message.name, plate: frame.name, plateSize: frame.subsampleSize, dim: frame.dim, batchShape: batch, location: message.location))
            return
        }
        target[position] = frame.subsampleSize
        if target != batch { message.distribution = distribution.expanded(to: target) }
    }
}

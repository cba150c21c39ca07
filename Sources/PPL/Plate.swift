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
    enterPlate(name, size: size, subsampleSize: subsampleSize, dim: dim, isDataPlate: false, location: SourceLocation(file: file, line: line), body)
}

/// A plate over a minibatch: `subsample` holds the batch's rows, `size` the rows of the full
/// data set (`plate("data", size: 60_000, subsample: x)` scales by 60,000 / x.shape[0]). This is
/// the data plate: the compiler gives the latent sites inside it an encoder fed the rows.
public func plate(
    _ name: String, size: Int, subsample: some RowData, dim: Int? = nil,
    file: StaticString = #fileID, line: UInt = #line,
    @ModelBuilder _ body: () -> ModelOutput
) {
    enterPlate(name, size: size, subsampleSize: subsample.rowCount, dim: dim, isDataPlate: true, location: SourceLocation(file: file, line: line), body)
}

func enterPlate(
    _ name: String, size: Int, subsampleSize: Int?, dim: Int?, isDataPlate: Bool, location: SourceLocation,
    _ body: () -> ModelOutput
) {
    let enclosing = HandlerStack.handlers.compactMap { ($0 as? PlateHandler)?.frame }
    let used = Set(enclosing.map(\.dim))
    if let dim, dim >= 0 {
        recordDeferredError(ModelError.badPlate(plate: name, reason: "its dimension \(dim) must be negative (counted from the right: -1, -2, ...)", location: location))
    }
    if size < 0 || (subsampleSize ?? size) < 0 {
        recordDeferredError(ModelError.badPlate(plate: name, reason: "its size \(size) and subsample size \(subsampleSize ?? size) must not be negative", location: location))
    } else if let subsampleSize, subsampleSize > size {
        recordDeferredError(ModelError.badPlate(plate: name, reason: "it holds \(subsampleSize) rows of a plate of size \(size); a subsample cannot be larger than its plate (is `size` the number of rows of the whole data set?)", location: location))
    }
    var chosen = dim.flatMap { $0 < 0 ? $0 : nil } ?? -1
    if dim == nil || dim! >= 0 { while used.contains(chosen) { chosen -= 1 } }
    let frame = PlateFrame(name: name, size: Swift.max(size, 0), subsampleSize: Swift.max(subsampleSize ?? size, 0), dim: chosen, isDataPlate: isDataPlate)
    if isDataPlate, enclosing.contains(where: \.isDataPlate) {
        recordDeferredError(ModelError.badPlate(plate: name, reason: "it is declared with `subsample:` inside another data plate; a model has one data plate", location: location))
    }
    if used.contains(chosen) {
        recordDeferredError(ModelError.plateConflict(plate: name, dim: chosen, location: location))
    }
    _ = PlateHandler(frame: frame).run(body)
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
        message.scale *= frame.scale
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

/// Runs `body` inside the plates `frames` (outermost first), as a model declared them: the
/// compiled guide places each site in the plates of the model's site.
package func withPlates(_ frames: [PlateFrame], _ body: () -> Void) {
    guard let outer = frames.first else { return body() }
    PlateHandler(frame: outer).run { withPlates(Array(frames.dropFirst()), body) }
}

/// The axes of `batch` (negative, the last first) longer than 1 that no dimension in `declared`
/// names: axes no plate (or enumerated site) accounts for.
func undeclaredAxes(of batch: [Int], declared: Set<Int>) -> [Int] {
    stride(from: -1, through: -batch.count, by: -1).filter { batch[batch.count + $0] > 1 && !declared.contains($0) }
}

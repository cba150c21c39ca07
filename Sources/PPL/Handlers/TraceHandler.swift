import Distributions
import TensorCore

/// Records every site that reaches it, with its log-probability, into `trace`; reports two
/// sites with one name.
///
/// ```swift
/// let recorder = TraceHandler()
/// recorder.run { model.body(x) }
/// print(recorder.trace.names)
/// ```
public final class TraceHandler: Handler {
    public private(set) var trace = Trace()

    public init() {}

    public func postprocess(_ message: inout Message) {
        if let earlier = trace[message.name] {
            recordDeferredError(ModelError.duplicateSite(name: message.name, first: earlier.location, second: message.location))
            return
        }
        guard let value = message.value else { return }
        var logProb: Tensor?
        if let distribution = message.distribution, message.kind == .latent || message.kind == .observed {
            var terms = distribution.logProb(value)
            if let mask = message.mask {
                if !Self.fits(mask.shape, distribution.batchShape, enumerated: Set(message.enumeratedVariables.keys)) {
                    recordDeferredError(ModelError.maskShape(site: message.name, maskShape: mask.shape, batchShape: distribution.batchShape, location: message.location))
                }
                // A mask of 0.5 kept the entry whole, as if it were 1.
                if let bad = mask.uncountedScalars.firstIndex(where: { $0 != 0 && $0 != 1 }) {
                    recordDeferredError(ModelError.badMask(site: message.name, index: bad, value: mask.uncountedScalars[bad], location: message.location))
                }
                // A summed site's masked entry weighs each of its K values 1/K, so that summing
                // them counts the entry once (a 0 for each raised log p(x) by log K an entry);
                // an observed one keeps 0, the observation's own correction taking the log K off.
                var absent = Tensor(0)
                if message.enumerationDim != nil, let count = value.shape.first, count > 1 {
                    absent = message.partialObservation.map { select($0.mask, Tensor(0), sliceLogWeight(count)) } ?? sliceLogWeight(count)
                }
                terms = select(mask, terms, absent)
            }
            logProb = terms
        }
        trace.append(Site(
            name: message.name, kind: message.kind, distribution: message.distribution, value: value,
            isObserved: message.isObserved, scale: message.scale, mask: message.mask, plates: message.plates,
            enumerationDim: message.enumerationDim, enumeratedVariables: message.enumeratedVariables, markovStep: message.markovStep, partialObservation: message.partialObservation, constraint: message.constraint, location: message.location,
            logProb: logProb))
    }

    /// A mask fits a site when it broadcasts to the site's batch shape without lengthening an
    /// axis of it, and adds axes only at dimensions an enumerated site holds (a mask made from
    /// a summed discrete latent): a longer axis, or one more on the left, would count one term
    /// once per mask entry.
    static func fits(_ mask: [Int], _ batch: [Int], enumerated: Set<Int>) -> Bool {
        guard let full = Shape.broadcast(mask, batch) else { return false }
        return full.indices.allSatisfy { axis in
            let dim = axis - full.count
            return -dim <= batch.count ? full[axis] == batch[batch.count + dim] : full[axis] == 1 || enumerated.contains(dim)
        }
    }
}

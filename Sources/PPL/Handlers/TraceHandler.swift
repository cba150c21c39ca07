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
                if Shape.broadcast(mask.shape, distribution.batchShape) != distribution.batchShape {
                    recordDeferredError(ModelError.maskShape(site: message.name, maskShape: mask.shape, batchShape: distribution.batchShape, location: message.location))
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
}

import Distributions
import TensorCore

/// An effect handler: a stage on the stack that every site's `Message` passes through.
///
/// `process` runs from the innermost handler outwards before the value is decided (a handler
/// may set the value, the distribution or `stop`); `postprocess` runs back from the outermost
/// handler reached to the innermost after it (where `trace` records the site). This is the
/// one mechanism behind every inference algorithm, as Pyro's poutine and NumPyro's handlers.
public protocol Handler: AnyObject {
    func process(_ message: inout Message)
    func postprocess(_ message: inout Message)
}

extension Handler {
    public func process(_ message: inout Message) {}
    public func postprocess(_ message: inout Message) {}

    /// Runs `body` with this handler innermost on the stack; the stack is restored however
    /// `body` ends.
    public func run<Result>(_ body: () throws -> Result) rethrows -> Result {
        try HandlerStack.with([self], body)
    }
}

/// The active handlers, outermost first (task-local, so nested runs and threads are isolated).
public enum HandlerStack {
    /// The handlers of the current task, outermost first.
    public static var handlers: [any Handler] { current.handlers }

    /// Runs `body` with `more` pushed inside the current handlers; restored however it ends.
    public static func with<Result>(_ more: [any Handler], _ body: () throws -> Result) rethrows -> Result {
        try $current.withValue(Handlers(handlers: current.handlers + more)) { try body() }
    }

    /// Handlers are used by one task at a time: each run pushes its own.
    struct Handlers: @unchecked Sendable {
        let handlers: [any Handler]
    }

    @TaskLocal static var current = Handlers(handlers: [])

    /// Sends `message` through the stack and returns it with its value decided.
    static func apply(_ message: Message) -> Message {
        var message = message
        attributePendingError(to: message)
        if message.name.isEmpty || message.name.hasSuffix("/") {
            recordDeferredError(ModelError.unnamedSite(kind: message.kind, location: message.location))
        }
        let stack = handlers
        var reached = 0
        for handler in stack.reversed() {
            reached += 1
            handler.process(&message)
            if message.stop { break }
        }
        decideValue(&message)
        if let observation = message.partialObservation, let value = message.value {
            message.value = observation.merged(into: value, eventRank: message.distribution?.eventShape.count ?? 0)
        }
        if message.enumerationDim != nil, let value = message.value, let guarded = GuardedValues.current {
            // A copy of its own: the support may be a tensor of the model's (FiniteDiscrete's values).
            let own = value.copied()
            let batch = Swift.max(message.distribution.map { Shape.count($0.batchShape) } ?? 1, Shape.count(message.plates.map(\.subsampleSize)))
            let unsummed = Shape.count([batch, message.distribution.map { Shape.count($0.eventShape) } ?? 1])
            guarded.guardValue(own, site: message.name, file: message.location.file, line: message.location.line, unsummedCount: unsummed)
            message.value = own
        }
        if message.kind == .observed { checkObservation(message) }
        for handler in stack.suffix(reached) {
            handler.postprocess(&message)
        }
        attributePendingError(to: message)
        return message
    }

    /// A parameter's initial value, drawn from the site's seeded generator when it has one.
    static func initialDraw(_ message: Message, _ draw: (inout RandomGenerator) -> Tensor) -> Tensor {
        if let box = message.generator { return draw(&box.generator) }
        return GlobalRandom.withGenerator { draw(&$0) }
    }

    /// Names the site at (or just after) which a tensor or distribution error arose.
    static func attributePendingError(to message: Message) {
        annotateDeferredError { error in
            if let read = error as? GuardedValueRead { return read.modelError(place: "before site '\(message.name)' at \(message.location)") }
            return error is ModelError ? error : ModelError.atSite(site: message.name, location: message.location, underlying: error)
        }
    }

    /// An observed value must have the distribution's event shape, broadcast with its batch
    /// shape, and match every plate around it in size.
    static func checkObservation(_ message: Message) {
        guard let value = message.value, let distribution = message.distribution else { return }
        let event = distribution.eventShape
        let expected = distribution.batchShape + event
        guard value.rank >= event.count, Array(value.shape.suffix(event.count)) == event else {
            recordDeferredError(ModelError.observationShape(site: message.name, expected: expected, got: value.shape, location: message.location))
            return
        }
        let batch = Array(value.shape.dropLast(event.count))
        for frame in message.plates where batch.count >= -frame.dim {
            let size = batch[batch.count + frame.dim]
            if size != frame.subsampleSize {
                recordDeferredError(ModelError.plateSizeMismatch(site: message.name, plate: frame, valueShape: value.shape, dataSize: size, location: message.location))
                return
            }
        }
        if Shape.broadcast(batch, distribution.batchShape) == nil {
            recordDeferredError(ModelError.observationShape(site: message.name, expected: expected, got: value.shape, location: message.location))
        }
    }

    /// The default at the bottom of the stack: draw a latent site's value if nothing set it.
    static func decideValue(_ message: inout Message) {
        guard message.value == nil else { return }
        switch message.kind {
        case .latent:
            guard let distribution = message.distribution else { return }
            if let box = message.generator {
                message.value = message.draw(distribution, from: box, reparameterized: distribution.hasReparameterizedSample)
            } else {
                message.value = distribution.hasReparameterizedSample ? distribution.rsample() : distribution.sample()
            }
        case .param:
            message.value = message.initialValue.map { draw in initialDraw(message, draw) }
        case .observed, .deterministic:
            break
        }
    }
}

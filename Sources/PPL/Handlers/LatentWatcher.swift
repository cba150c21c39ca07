import Distributions
import TensorCore

/// Watches latent values on `tape` (the continuous ones, the discrete ones, or the sites named),
/// notes the latent sites whose support's bounds the tape tracks, and where the first read of a
/// tracked value as a number (`reads`, when given) happened: what the compiler's checks of a
/// model look for.
package final class LatentWatcher: Handler {
    /// The latent values watched.
    package enum Watched {
        case continuous
        case discrete
        case sites(Set<String>)
    }

    let tape: GradientTape
    let watched: Watched
    let reads: ValueReads?
    package private(set) var sitesWithMovingBounds: [(name: String, location: SourceLocation)] = []
    /// The sites before and after the first read (nil at either end of the model).
    package private(set) var firstValueRead: (previous: (name: String, location: SourceLocation)?, next: (name: String, location: SourceLocation)?)?
    /// Where each watched site is in the model.
    package private(set) var watchedLocations: [String: SourceLocation] = [:]
    private var previous: (name: String, location: SourceLocation)?
    private var readsSeen = 0

    package init(tape: GradientTape, watching watched: Watched, reads: ValueReads?) {
        self.tape = tape
        self.watched = watched
        self.reads = reads
    }

    package func process(_ message: inout Message) {
        noteReads(before: (message.name, message.location))
        guard message.kind == .latent, let support = message.distribution?.support else { return }
        if support.bounds.contains(where: \.isTracked) { sitesWithMovingBounds.append((message.name, message.location)) }
    }

    package func postprocess(_ message: inout Message) {
        previous = (message.name, message.location)
        guard message.kind == .latent, let distribution = message.distribution, let value = message.value else { return }
        switch watched {
        case .continuous: guard !distribution.hasDiscreteValues else { return }
        case .discrete: guard distribution.hasDiscreteValues else { return }
        case let .sites(names): guard names.contains(message.name) else { return }
        }
        watchedLocations[message.name] = message.location
        message.value = tape.watch(value)
    }

    /// The run is over: reads after the last site count too.
    package func finish() { noteReads(before: nil) }

    private func noteReads(before next: (name: String, location: SourceLocation)?) {
        guard let reads, reads.count > readsSeen else { return }
        readsSeen = reads.count
        if firstValueRead == nil { firstValueRead = (previous, next) }
    }
}

/// Values a model may not read as Swift numbers while it runs: a discrete latent's value while
/// inference sums it over its support holds every value of the support at once (along a
/// dimension of its own), so a number read from it, by `.scalar` or `.scalars`, also through
/// `.detached` or a reshape, would make one choice for all of them. Each model run keeps its
/// own and guards each summed value as it enters the run (a copy of its own); a read records a
/// `GuardedValueRead` for the run to throw. (The compiler's watched runs find reads of values
/// made from them.) The library's own reads of values (an index, a check against a support) go
/// through `uncountedScalars`.
package final class GuardedValues: @unchecked Sendable {
    @TaskLocal package static var current: GuardedValues?
    /// Each guarded storage with its value (kept alive, so that no other storage takes its
    /// address during the run), the site it belongs to and its site's element count outside
    /// enumeration.
    private var guarded: [ObjectIdentifier: (value: Tensor, read: GuardedValueRead, unsummedCount: Int)] = [:]

    package init() {}

    /// Guards the elements of `value` (and of every tensor sharing them) as the value of site
    /// `site`, written at `file`:`line`, which has at most `unsummedCount` elements when it is
    /// not summed (a number a row, say, not the support).
    package func guardValue(_ value: Tensor, site: String, file: String, line: Int, unsummedCount: Int) {
        value.storage.isGuarded = true
        guarded[ObjectIdentifier(value.storage)] = (value, GuardedValueRead(site: site, file: file, line: line), unsummedCount)
    }

    /// Records a read of `storage` as numbers when the current run guards it, and returns its
    /// site's element count outside enumeration then (nil when it is not guarded).
    static func noteRead(of storage: TensorStorage) -> Int? {
        guard storage.isGuarded, let entry = current?.guarded[ObjectIdentifier(storage)] else { return nil }
        recordDeferredError(entry.read)
        return entry.unsummedCount
    }
}

/// A model read a guarded value (`GuardedValues`) as a Swift number: the value of site `site`,
/// written at `file`:`line`.
package struct GuardedValueRead: Error, Sendable {
    package let site: String
    package let file: String
    package let line: Int
}

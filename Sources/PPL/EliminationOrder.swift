/// The bookkeeping behind a contraction's elimination order: which terms depend on each
/// variable, and which variable is cheapest to eliminate next.

/// A contraction's terms with, for each variable, the terms that depend on it (in the order the
/// terms were made, which fixes the order of every sum).
struct TermIndex {
    private var slots: [Contraction.Term?]
    private var termsDependingOn: [String: [Int]] = [:]

    init(_ terms: [Contraction.Term]) {
        slots = []
        add(terms)
    }

    /// Whether some term depends on `name`.
    func isUsed(_ name: String) -> Bool {
        !(termsDependingOn[name]?.isEmpty ?? true)
    }

    /// The terms that depend on `name`, oldest first.
    func terms(of name: String) -> [Contraction.Term] {
        (termsDependingOn[name] ?? []).map { slots[$0]! }
    }

    /// Whether one term depends on both variables.
    func shareATerm(_ first: String, _ second: String) -> Bool {
        !Set(termsDependingOn[first] ?? []).isDisjoint(with: termsDependingOn[second] ?? [])
    }

    /// Removes the terms that depend on `name` and adds `replacements` after every other term.
    mutating func replace(termsOf name: String, with replacements: [Contraction.Term]) {
        for slot in termsDependingOn[name] ?? [] {
            for variable in slots[slot]!.variables { termsDependingOn[variable]?.removeAll { $0 == slot } }
            slots[slot] = nil
        }
        add(replacements)
    }

    /// The terms left, in the order they were made.
    var remainingTerms: [Contraction.Term] {
        slots.compactMap { $0 }
    }

    private mutating func add(_ terms: [Contraction.Term]) {
        for term in terms {
            for variable in term.variables { termsDependingOn[variable, default: []].append(slots.count) }
            slots.append(term)
        }
    }
}

/// Variables waiting to be eliminated, cheapest first and the first declared among equals: a
/// binary heap whose entries are not updated in place; an entry whose variable has since been
/// eliminated or has changed cost is dropped when it comes up.
struct EliminationQueue {
    private var heap: [(cost: Int, position: Int, name: String)] = []

    mutating func push(_ name: String, cost: Int, position: Int) {
        heap.append((cost, position, name))
        var child = heap.count - 1
        while child > 0, precedes(child, (child - 1) / 2) {
            heap.swapAt(child, (child - 1) / 2)
            child = (child - 1) / 2
        }
    }

    /// The cheapest variable whose entry `isCurrent(name, cost)` still holds, or nil.
    mutating func popCheapest(where isCurrent: (String, Int) -> Bool) -> String? {
        while let top = heap.first {
            heap.swapAt(0, heap.count - 1)
            heap.removeLast()
            var parent = 0
            while true {
                var smallest = parent
                for child in [2 * parent + 1, 2 * parent + 2] where child < heap.count && precedes(child, smallest) { smallest = child }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
            if isCurrent(top.name, top.cost) { return top.name }
        }
        return nil
    }

    private func precedes(_ first: Int, _ second: Int) -> Bool {
        (heap[first].cost, heap[first].position) < (heap[second].cost, heap[second].position)
    }
}

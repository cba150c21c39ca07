import Foundation

/// Shape arithmetic shared by every operation: element counts, row-major strides,
/// NumPy broadcasting and axis normalization.
package enum Shape {
    /// Number of elements of a tensor of this shape (1 for a scalar); `Int.max` for a shape with
    /// a negative dimension or more elements than an `Int` counts, which no allocation accepts.
    package static func count(_ shape: [Int]) -> Int { checkedCount(shape, limit: .max) ?? .max }

    /// The number of elements, or nil when a dimension is negative or the product passes
    /// `limit` (by default the most elements any tensor may hold): the one check every size
    /// read from a file or a user goes through before anything is allocated.
    package static func checkedCount(_ shape: [Int], limit: Int = maximumElements) -> Int? {
        guard !shape.contains(where: { $0 < 0 }) else { return nil }
        if shape.contains(0) { return 0 }
        var total = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= limit else { return nil }
            total = product
        }
        return total <= limit ? total : nil
    }

    /// The most elements of one tensor: as many floats as the machine has memory for.
    package static let maximumElements = Int(Swift.min(ProcessInfo.processInfo.physicalMemory / 4, 1 << 40))

    /// Row-major strides, in elements.
    package static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride *= shape[axis]
        }
        return strides
    }

    /// The NumPy broadcast of two shapes, or nil when a pair of trailing dimensions differs
    /// and neither is 1.
    package static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        guard !a.contains(where: { $0 < 0 }), !b.contains(where: { $0 < 0 }) else { return nil }
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                return nil
            }
        }
        return result
    }

    /// A shape of the right rank to stand in for a failed broadcast: the larger size per axis.
    package static func broadcastFallback(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = Swift.max(a.count, b.count)
        return (0..<rank).map { i in
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            return Swift.max(da, db)
        }
    }

    /// Strides for reading a tensor of `shape` as if broadcast to `target`: 0 on broadcast axes.
    package static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var stride = 1
        let offset = target.count - shape.count
        for axis in shape.indices.reversed() {
            if shape[axis] != 1, axis + offset >= 0 { strides[axis + offset] = stride }
            stride *= shape[axis]
        }
        return strides
    }

    /// `axis` with negative values counted from the end, or nil when out of range.
    package static func normalize(axis: Int, rank: Int) -> Int? {
        let normalized = axis < 0 ? axis + rank : axis
        return (0..<rank).contains(normalized) ? normalized : nil
    }

    package static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

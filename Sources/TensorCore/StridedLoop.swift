/// The one loop that walks two operands laid out with arbitrary (possibly zero) strides
/// over a common shape: broadcasting, reductions and `where` are all built on it.
///
/// `body(row, offsetA, offsetB)` is called once per row, that is per index of all axes but
/// the last, in row-major order; the caller walks the last axis itself with the operands'
/// last-axis strides.
@inline(__always)
func forEachRow(
    shape: [Int], _ stridesA: [Int], _ stridesB: [Int],
    _ body: (_ row: Int, _ offsetA: Int, _ offsetB: Int) -> Void
) {
    let outerRank = shape.count - 1
    guard outerRank > 0 else {
        body(0, 0, 0)
        return
    }
    let rows = Shape.count(Array(shape[..<outerRank]))
    guard rows > 0, shape[outerRank] > 0 else { return }
    // The axis before the last is walked in a plain loop; the index only tracks the rest.
    let middle = shape[outerRank - 1], middleA = stridesA[outerRank - 1], middleB = stridesB[outerRank - 1]
    var index = [Int](repeating: 0, count: outerRank - 1)
    var offsetA = 0
    var offsetB = 0
    var row = 0
    while row < rows {
        for i in 0..<middle { body(row + i, offsetA + i * middleA, offsetB + i * middleB) }
        row += middle
        var axis = outerRank - 2
        while axis >= 0 {
            index[axis] += 1
            offsetA += stridesA[axis]
            offsetB += stridesB[axis]
            if index[axis] < shape[axis] { break }
            offsetA -= stridesA[axis] * shape[axis]
            offsetB -= stridesB[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}

/// `shape` and two operands' strides over it with axes of size 1 dropped and neighbouring
/// axes merged where both operands walk them as one (a row-major run, or a broadcast along
/// both): the same elements in the same row-major order, in fewer and longer rows.
func coalesced(_ shape: [Int], _ stridesA: [Int], _ stridesB: [Int]) -> (shape: [Int], a: [Int], b: [Int]) {
    var merged: [Int] = [], a: [Int] = [], b: [Int] = []
    merged.reserveCapacity(shape.count)
    a.reserveCapacity(shape.count)
    b.reserveCapacity(shape.count)
    for i in shape.indices where shape[i] != 1 {
        if let last = merged.last, a[a.count - 1] == stridesA[i] * shape[i], b[b.count - 1] == stridesB[i] * shape[i] {
            merged[merged.count - 1] = last * shape[i]
            a[a.count - 1] = stridesA[i]
            b[b.count - 1] = stridesB[i]
        } else {
            merged.append(shape[i])
            a.append(stridesA[i])
            b.append(stridesB[i])
        }
    }
    return merged.isEmpty ? ([1], [0], [0]) : (merged, a, b)
}

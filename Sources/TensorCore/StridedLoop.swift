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
    var index = [Int](repeating: 0, count: outerRank)
    var offsetA = 0
    var offsetB = 0
    for row in 0..<rows {
        body(row, offsetA, offsetB)
        var axis = outerRank - 1
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

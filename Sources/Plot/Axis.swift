import Foundation

/// One axis of a chart: the data range widened to round tick values, and the ticks' labels.
struct Axis {
    let lower: Double
    let upper: Double
    let ticks: [Double]

    /// An axis covering `values` (finite ones) with about `count` ticks at 1, 2 or 5 times a
    /// power of ten (whole numbers only, when `values` are).
    init(covering values: [Double], count: Int = 5) {
        let finite = values.filter(\.isFinite)
        var (low, high) = (finite.min() ?? 0, finite.max() ?? 1)
        if high - low < 1e-12 * Swift.max(abs(low), 1) { (low, high) = (low - 0.5, high + 0.5) }
        let rough = (high - low) / Double(Swift.max(count, 1))
        let power = pow(10, floor(log10(rough)))
        var step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        if !finite.isEmpty, finite.allSatisfy({ $0 == $0.rounded() }) { step = Swift.max(step, 1) }
        let first = floor(low / step) * step, last = ceil(high / step) * step
        lower = first
        upper = last
        ticks = stride(from: first, through: last + step / 2, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
    }

    /// `value`'s position between `start` (the lower end) and `end` (the upper end), in pixels.
    func position(_ value: Double, from start: Double, to end: Double) -> Double {
        start + (value - lower) / (upper - lower) * (end - start)
    }

    /// A tick label: as few digits as tell the ticks apart.
    func label(_ value: Double) -> String {
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        let decimals = Swift.max(0, Int(-floor(log10(step) + 1e-9)))
        if abs(value) >= 1e5 { return String(format: "%.2g", value) }
        return String(format: "%.\(decimals)f", value)
    }
}

/// `text` with the characters XML and HTML give a meaning escaped.
package func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
}

/// `value` with one decimal, for SVG coordinates.
func svgNumber(_ value: Double) -> String { String(format: "%.1f", value) }

/// The SVG elements of a frame from (`left`, `top`) to (`right`, `bottom`): the box, ticks and
/// grid lines of both axes with their labels, and the axis titles.
func axesSVG(x: Axis, y: Axis, left: Double, top: Double, right: Double, bottom: Double, xLabel: String, yLabel: String) -> [String] {
    func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ color: String) -> String {
        "<line x1=\"\(svgNumber(x1))\" y1=\"\(svgNumber(y1))\" x2=\"\(svgNumber(x2))\" y2=\"\(svgNumber(y2))\" stroke=\"\(color)\"/>"
    }
    var body: [String] = []
    for tick in x.ticks {
        let px = x.position(tick, from: left, to: right)
        body += [line(px, top, px, bottom, "#e4e4e4"), line(px, bottom, px, bottom + 5, "black"),
                 "<text x=\"\(svgNumber(px))\" y=\"\(svgNumber(bottom + 18))\" text-anchor=\"middle\" font-size=\"11\">\(x.label(tick))</text>"]
    }
    for tick in y.ticks {
        let py = y.position(tick, from: bottom, to: top)
        body += [line(left, py, right, py, "#e4e4e4"), line(left - 5, py, left, py, "black"),
                 "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(py + 4))\" text-anchor=\"end\" font-size=\"11\">\(y.label(tick))</text>"]
    }
    body.append("<rect x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(right - left))\" height=\"\(svgNumber(bottom - top))\" fill=\"none\" stroke=\"black\"/>")
    body.append("<text x=\"\(svgNumber((left + right) / 2))\" y=\"\(svgNumber(bottom + 36))\" text-anchor=\"middle\" font-size=\"13\">\(escapeXML(xLabel))</text>")
    let (labelX, middle) = (svgNumber(left - 50), svgNumber((top + bottom) / 2))
    body.append("<text x=\"\(labelX)\" y=\"\(middle)\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 \(labelX) \(middle))\">\(escapeXML(yLabel))</text>")
    return body
}

import Foundation

/// A line chart as SVG: one or more named series over a shared x axis, with axes, ticks, grid
/// lines, axis labels and a legend.
public struct SVGChart {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Name and points of each series.
    public var series: [(name: String, points: [(Double, Double)])] = []

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    /// The SVG document.
    public func rendered(width: Double = 640, height: Double = 400) -> String {
        let points = series.flatMap(\.points).filter { $0.0.isFinite && $0.1.isFinite }
        let (left, right, top, bottom) = (78.0, width - 20, 40.0, height - 52)
        let x = Axis(covering: points.map(\.0)), y = Axis(covering: points.map(\.1))
        var body = ["<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>",
                    "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(escapeXML(title))</text>"]
        body += axesSVG(x: x, y: y, left: left, top: top, right: right, bottom: bottom, xLabel: xLabel, yLabel: yLabel)
        for (index, line) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count]
            let finite = line.points.filter { $0.0.isFinite && $0.1.isFinite }
            let path = finite.map { String(format: "%.1f,%.1f", x.position($0.0, from: left, to: right), y.position($0.1, from: bottom, to: top)) }
            body.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path.joined(separator: " "))\"/>")
            if finite.count == 1, let only = path.first?.split(separator: ",") {
                body.append("<circle cx=\"\(only[0])\" cy=\"\(only[1])\" r=\"3\" fill=\"\(color)\"/>")
            }
        }
        let legendWidth = 24 + 7 * Double(series.map(\.name.count).max() ?? 0)
        let legendLeft = right - legendWidth - 10
        if !series.isEmpty {
            body.append("<rect x=\"\(svgNumber(legendLeft - 6))\" y=\"\(svgNumber(top + 6))\" width=\"\(svgNumber(legendWidth + 12))\" height=\"\(svgNumber(18 * Double(series.count) + 8))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>")
        }
        for (index, line) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count], rowY = top + 22 + 18 * Double(index)
            body.append("<line x1=\"\(svgNumber(legendLeft))\" y1=\"\(svgNumber(rowY - 4))\" x2=\"\(svgNumber(legendLeft + 16))\" y2=\"\(svgNumber(rowY - 4))\" stroke=\"\(color)\" stroke-width=\"2\"/>")
            body.append("<text x=\"\(svgNumber(legendLeft + 22))\" y=\"\(svgNumber(rowY))\" font-size=\"12\">\(escapeXML(line.name))</text>")
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }
}

import Foundation

/// A line chart as SVG: one or more named series over a shared x axis, with axis labels.
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

    /// The SVG document.
    public func rendered(width: Double = 640, height: Double = 400) -> String {
        let points = series.flatMap(\.points)
        let (left, right, top, bottom) = (70.0, width - 20, 40.0, height - 50)
        let xs = points.map(\.0), ys = points.map(\.1)
        let (xMin, xMax) = (xs.min() ?? 0, Swift.max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-9))
        let (yMin, yMax) = (ys.min() ?? 0, Swift.max(ys.max() ?? 1, (ys.min() ?? 0) + 1e-9))
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (y - yMin) / (yMax - yMin) * (bottom - top) }
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
        var body = ["<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>",
                    "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>",
                    "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"black\"/>",
                    "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"black\"/>",
                    "<text x=\"\((left + right) / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\" font-size=\"13\">\(escape(xLabel))</text>",
                    "<text x=\"16\" y=\"\((top + bottom) / 2)\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 16 \((top + bottom) / 2))\">\(escape(yLabel))</text>"]
        for i in 0...4 {
            let y = yMin + (yMax - yMin) * Double(i) / 4
            body.append("<text x=\"\(left - 6)\" y=\"\(py(y) + 4)\" text-anchor=\"end\" font-size=\"11\">\(String(format: "%.1f", y))</text>")
            let x = xMin + (xMax - xMin) * Double(i) / 4
            body.append("<text x=\"\(px(x))\" y=\"\(bottom + 16)\" text-anchor=\"middle\" font-size=\"11\">\(String(format: "%g", (x * 10).rounded() / 10))</text>")
        }
        for (index, line) in series.enumerated() {
            let color = colors[index % colors.count]
            let path = line.points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            body.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>")
            body.append("<text x=\"\(right - 150)\" y=\"\(top + 16 + 16 * Double(index))\" font-size=\"12\" fill=\"\(color)\">\(escape(line.name))</text>")
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\">\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

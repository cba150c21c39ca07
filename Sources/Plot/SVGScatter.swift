import Foundation

/// Side-by-side scatter panels of 2-D points, each point coloured by a mixture of component
/// colours (its posterior probabilities), with each component's 2-sigma ellipse, axes, a
/// legend, and a table of figures; everything drawn inside its panel.
public struct SVGScatter {
    /// One panel: a title and, per point, its probabilities over the components.
    public struct Panel {
        public let title: String
        public let probabilities: [[Double]]
        public init(title: String, probabilities: [[Double]]) {
            self.title = title
            self.probabilities = probabilities
        }
    }

    /// A component: its centre and its 2 x 2 covariance `(xx, xy, yy)`.
    public struct Component {
        public let center: (Double, Double)
        public let covariance: (xx: Double, xy: Double, yy: Double)
        public init(center: (Double, Double), covariance: (xx: Double, xy: Double, yy: Double)) {
            self.center = center
            self.covariance = covariance
        }

        /// The 2-sigma ellipse as `count` points: centre + 2 L (cos t, sin t), with L L^T the covariance.
        func outline(_ count: Int = 72) -> [(Double, Double)] {
            let l11 = covariance.xx.squareRoot()
            let l21 = l11 > 0 ? covariance.xy / l11 : 0
            let l22 = Swift.max(covariance.yy - l21 * l21, 0).squareRoot()
            return (0..<count).map { step in
                let t = 2 * Double.pi * Double(step) / Double(count)
                return (center.0 + 2 * l11 * cos(t), center.1 + 2 * (l21 * cos(t) + l22 * sin(t)))
            }
        }
    }

    public var points: [(Double, Double)]
    public var panels: [Panel]
    public var components: [Component]
    public var xLabel: String
    public var yLabel: String
    /// Rows of the table under the panels.
    public var table: [(String, String)]
    /// One unit the same length on both axes (for a projection, whose axes share their units).
    public var equalScales = false

    public init(points: [(Double, Double)], panels: [Panel], components: [Component], xLabel: String, yLabel: String, table: [(String, String)]) {
        self.points = points
        self.panels = panels
        self.components = components
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.table = table
    }

    static let palette: [(Double, Double, Double)] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (140, 86, 75)]

    static func rgb(_ color: (Double, Double, Double)) -> String { "rgb(\(Int(color.0)),\(Int(color.1)),\(Int(color.2)))" }

    /// The SVG document.
    public func rendered(panelSize: Double = 360) -> String {
        var xs = points.map(\.0), ys = points.map(\.1)
        if equalScales, let xLow = xs.min(), let xHigh = xs.max(), let yLow = ys.min(), let yHigh = ys.max() {
            let half = Swift.max(xHigh - xLow, yHigh - yLow) / 2
            xs = [(xLow + xHigh) / 2 - half, (xLow + xHigh) / 2 + half]
            ys = [(yLow + yHigh) / 2 - half, (yLow + yHigh) / 2 + half]
        }
        let x = Axis(covering: xs), y = Axis(covering: ys)
        let (margin, gutter, top) = (80.0, 90.0, 44.0)
        let width = margin + Double(panels.count) * panelSize + Double(Swift.max(panels.count - 1, 0)) * gutter + 150
        let tableTop = top + panelSize + 64
        let height = tableTop + 22 * Double(table.count) + 10
        var body = ["<rect width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\" fill=\"white\"/>"]
        for (index, panel) in panels.enumerated() {
            let left = margin + Double(index) * (panelSize + gutter), right = left + panelSize, bottom = top + panelSize
            func pixel(_ point: (Double, Double)) -> String {
                svgNumber(x.position(point.0, from: left, to: right)) + "," + svgNumber(y.position(point.1, from: bottom, to: top))
            }
            body.append("<clipPath id=\"panel\(index)\"><rect x=\"\(svgNumber(left))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(panelSize))\" height=\"\(svgNumber(panelSize))\"/></clipPath>")
            body.append("<text x=\"\(svgNumber((left + right) / 2))\" y=\"\(svgNumber(top - 12))\" text-anchor=\"middle\" font-size=\"14\">\(escapeXML(panel.title))</text>")
            body += axesSVG(x: x, y: y, left: left, top: top, right: right, bottom: bottom, xLabel: xLabel, yLabel: index == 0 ? yLabel : "")
            body.append("<g clip-path=\"url(#panel\(index))\">")
            for (point, probabilities) in zip(points, panel.probabilities) where point.0.isFinite && point.1.isFinite {
                var color = (0.0, 0.0, 0.0)
                for (k, p) in probabilities.enumerated() where p.isFinite {
                    let c = Self.palette[k % Self.palette.count]
                    color = (color.0 + p * c.0, color.1 + p * c.1, color.2 + p * c.2)
                }
                let at = pixel(point).split(separator: ",")
                body.append("<circle cx=\"\(at[0])\" cy=\"\(at[1])\" r=\"1.6\" fill=\"\(Self.rgb(color))\"/>")
            }
            for (k, component) in components.enumerated() {
                let outline = component.outline().filter { $0.0.isFinite && $0.1.isFinite }
                body.append("<polygon points=\"\(outline.map(pixel).joined(separator: " "))\" fill=\"none\" stroke=\"\(Self.rgb(Self.palette[k % Self.palette.count]))\" stroke-width=\"2\"/>")
            }
            body.append("</g>")
        }
        let legendLeft = margin + Double(panels.count) * panelSize + Double(Swift.max(panels.count - 1, 0)) * gutter + 20
        for k in components.indices {
            let rowY = top + 14 + 20 * Double(k)
            body.append("<circle cx=\"\(svgNumber(legendLeft + 6))\" cy=\"\(svgNumber(rowY - 4))\" r=\"5\" fill=\"\(Self.rgb(Self.palette[k % Self.palette.count]))\"/>")
            body.append("<text x=\"\(svgNumber(legendLeft + 18))\" y=\"\(svgNumber(rowY))\" font-size=\"12\">component \(k + 1)</text>")
        }
        for (row, entry) in table.enumerated() {
            let rowY = tableTop + 22 * Double(row) + 10
            body.append("<text x=\"\(svgNumber(margin))\" y=\"\(svgNumber(rowY))\" font-size=\"13\">\(escapeXML(entry.0))</text>")
            body.append("<text x=\"\(svgNumber(margin + 330))\" y=\"\(svgNumber(rowY))\" font-size=\"13\" font-family=\"monospace\">\(escapeXML(entry.1))</text>")
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\" viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\">\n"
            + body.joined(separator: "\n") + "\n</svg>\n"
    }
}

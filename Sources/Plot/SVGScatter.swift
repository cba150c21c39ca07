import Foundation

/// Side-by-side scatter panels of 2-D points, each point coloured by a mixture of component
/// colours (its posterior probabilities), with axis-aligned ellipses and a table of figures.
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

    public var points: [(Double, Double)]
    public var panels: [Panel]
    /// Component centres and standard deviations, drawn as 2-sigma ellipses.
    public var ellipses: [(center: (Double, Double), radii: (Double, Double))]
    /// Rows of the table under the panels.
    public var table: [(String, String)]

    public init(points: [(Double, Double)], panels: [Panel], ellipses: [(center: (Double, Double), radii: (Double, Double))], table: [(String, String)]) {
        self.points = points
        self.panels = panels
        self.ellipses = ellipses
        self.table = table
    }

    static let palette: [(Double, Double, Double)] = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (140, 86, 75)]

    /// The SVG document.
    public func rendered(panelSize: Double = 360) -> String {
        let xs = points.map(\.0), ys = points.map(\.1)
        let (xMin, xMax) = ((xs.min() ?? 0) - 0.5, (xs.max() ?? 1) + 0.5)
        let (yMin, yMax) = ((ys.min() ?? 0) - 0.5, (ys.max() ?? 1) + 0.5)
        let margin = 30.0
        let width = Double(panels.count) * (panelSize + margin) + margin
        let height = panelSize + 2 * margin + 22 * Double(table.count) + 20
        var body = ["<rect width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>"]
        for (index, panel) in panels.enumerated() {
            let left = margin + Double(index) * (panelSize + margin)
            func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * panelSize }
            func py(_ y: Double) -> Double { margin + panelSize - (y - yMin) / (yMax - yMin) * panelSize }
            body.append("<text x=\"\(left + panelSize / 2)\" y=\"\(margin - 10)\" text-anchor=\"middle\" font-size=\"14\">\(panel.title)</text>")
            body.append("<rect x=\"\(left)\" y=\"\(margin)\" width=\"\(panelSize)\" height=\"\(panelSize)\" fill=\"none\" stroke=\"black\"/>")
            for (point, probabilities) in zip(points, panel.probabilities) {
                var color = (0.0, 0.0, 0.0)
                for (k, p) in probabilities.enumerated() {
                    let c = Self.palette[k % Self.palette.count]
                    color = (color.0 + p * c.0, color.1 + p * c.1, color.2 + p * c.2)
                }
                body.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\" fill=\"rgb(%d,%d,%d)\"/>", px(point.0), py(point.1), Int(color.0), Int(color.1), Int(color.2)))
            }
            for (k, ellipse) in ellipses.enumerated() {
                let c = Self.palette[k % Self.palette.count]
                let rx = 2 * ellipse.radii.0 / (xMax - xMin) * panelSize, ry = 2 * ellipse.radii.1 / (yMax - yMin) * panelSize
                body.append(String(format: "<ellipse cx=\"%.1f\" cy=\"%.1f\" rx=\"%.1f\" ry=\"%.1f\" fill=\"none\" stroke=\"rgb(%d,%d,%d)\" stroke-width=\"2\"/>",
                                   px(ellipse.center.0), py(ellipse.center.1), rx, ry, Int(c.0), Int(c.1), Int(c.2)))
            }
        }
        for (row, entry) in table.enumerated() {
            let y = panelSize + 2 * margin + 22 * Double(row) + 10
            body.append("<text x=\"\(margin)\" y=\"\(y)\" font-size=\"13\">\(entry.0)</text>")
            body.append("<text x=\"\(margin + 330)\" y=\"\(y)\" font-size=\"13\" font-family=\"monospace\">\(entry.1)</text>")
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\">\n" + body.joined(separator: "\n") + "\n</svg>\n"
    }
}

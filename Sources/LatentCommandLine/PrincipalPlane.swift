import Foundation
import Latent

/// The plane a picture of D-dimensional points is drawn in: the data's mean and its first two
/// principal directions (the columns themselves when D <= 2).
struct PrincipalPlane {
    let mean: [Double]
    /// Two unit directions of D numbers each.
    let directions: [[Double]]
    /// The axis titles, with the share of the variance each direction holds when D > 2.
    let labels: (String, String)

    /// The plane of `x` (rows of D numbers), naming the columns `columns` when known.
    init(_ x: Tensor, columns: [String]?) {
        let (n, d) = (x.shape[0], x.shape[1])
        let values = x.scalars.map(Double.init)
        let mean = (0..<d).map { j in (0..<n).reduce(0.0) { $0 + values[$1 * d + j] } / Double(Swift.max(n, 1)) }
        self.mean = mean
        let names = columns ?? (1...d).map { "column \($0)" }
        guard d > 2 else {
            directions = (0..<d).map { j in (0..<d).map { $0 == j ? 1.0 : 0 } }
            labels = (names[0], d == 2 ? names[1] : "spread (no meaning)")
            return
        }
        var covariance = [Double](repeating: 0, count: d * d)
        for row in 0..<n {
            for i in 0..<d {
                let a = values[row * d + i] - mean[i]
                for j in 0..<d { covariance[i * d + j] += a * (values[row * d + j] - mean[j]) / Double(n) }
            }
        }
        let total = (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] }
        var found: [[Double]] = [], shares: [Double] = []
        for _ in 0..<2 {
            var vector = (0..<d).map { 1 + Double($0) / Double(d) }
            var value = 0.0
            for _ in 0..<500 {
                var next = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + covariance[i * d + $1] * vector[$1] } }
                for earlier in found {
                    let overlap = zip(next, earlier).reduce(0.0) { $0 + $1.0 * $1.1 }
                    next = zip(next, earlier).map { $0 - overlap * $1 }
                }
                let norm = next.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 0 else { break }
                value = norm
                vector = next.map { $0 / norm }
            }
            found.append(vector)
            shares.append(total > 0 ? value / total : 0)
        }
        directions = found
        labels = (String(format: "principal direction 1 (%.0f%% of the variance)", 100 * shares[0]),
                  String(format: "principal direction 2 (%.0f%% of the variance)", 100 * shares[1]))
    }

    /// `point` (D numbers) in the plane. With one column, the second coordinate spreads the
    /// points apart by their index, as a strip plot does.
    func project(_ point: [Double], index: Int = 0) -> (Double, Double) {
        switch mean.count {
        case 1: return (point[0], (Double(index) * 0.618_034).truncatingRemainder(dividingBy: 1))
        case 2: return (point[0], point[1])
        default:
            let centered = zip(point, mean).map { $0 - $1 }
            func along(_ direction: [Double]) -> Double { zip(centered, direction).reduce(0.0) { $0 + $1.0 * $1.1 } }
            return (along(directions[0]), along(directions[1]))
        }
    }

    /// A diagonal Gaussian (`center`, standard deviations `scales`) as a component in the plane.
    func component(center: [Double], scales: [Double]) -> SVGScatter.Component {
        let at = project(center)
        guard mean.count > 1 else { return SVGScatter.Component(center: (at.0, 0.5), covariance: (scales[0] * scales[0], 0, 0)) }
        func covariance(_ a: [Double], _ b: [Double]) -> Double { (0..<scales.count).reduce(0.0) { $0 + a[$1] * b[$1] * scales[$1] * scales[$1] } }
        return SVGScatter.Component(center: at, covariance: (covariance(directions[0], directions[0]), covariance(directions[0], directions[1]), covariance(directions[1], directions[1])))
    }
}

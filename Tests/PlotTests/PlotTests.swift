import CKernels
import Datasets
import Foundation
import Plot
import TensorCore
import XCTest

/// Pictures people can read: grids scaled up with a gutter, charts with round ticks, a legend,
/// and panels that clip what they draw.
final class PlotTests: XCTestCase {
    func testGridScalesEachPixelAndSeparatesImages() {
        let images = Tensor([[0, 1, 1, 0], [1, 1, 1, 1], [0.5, 0.5, 0.5, 0.5]])
        let grid = PNGImage.grid(images, imageShape: [2, 2], columns: 2, scale: 3, gap: 2)
        XCTAssertEqual(grid.width, 2 + 2 * (6 + 2))
        XCTAssertEqual(grid.height, 2 + 2 * (6 + 2))
        func pixel(_ x: Int, _ y: Int) -> UInt8 { grid.pixels[y * grid.width + x] }
        XCTAssertEqual(pixel(0, 0), 200, "the gutter")
        XCTAssertEqual((2..<5).map { pixel($0, 2) }, [0, 0, 0], "image 1's first pixel, three wide")
        XCTAssertEqual((5..<8).map { pixel($0, 4) }, [255, 255, 255])
        XCTAssertEqual(pixel(8, 4), 200, "the gutter between images")
        XCTAssertEqual(pixel(2, 10), 128, "image 3 starts the second row")
        XCTAssertEqual(pixel(12, 12), 200, "no fourth image")
    }

    func testChartHasRoundTicksLabelsAndLegend() {
        var chart = SVGChart(title: "ELBO <per row>", xLabel: "epoch", yLabel: "nats")
        chart.series = [("training", [(1, -130.2), (2, -110.7), (3, -101.9)]), ("held-out", [(1, -128), (2, -109.5), (3, .nan)])]
        let svg = chart.rendered()
        for label in ["-130", "-120", "-110", "-100", "1.0", "2.0", "3.0", ">epoch<", ">nats<", ">training<", ">held-out<", "ELBO &lt;per row&gt;"] {
            XCTAssertTrue(svg.contains(label), label)
        }
        XCTAssertFalse(svg.lowercased().contains("nan"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
    }

    func testScatterPanelsClipTheirEllipses() {
        let points = [(0.0, 0.0), (1.0, 1.0), (2.0, 0.5)]
        let scatter = SVGScatter(points: points, panels: [.init(title: "p", probabilities: [[1, 0], [0, 1], [0.5, 0.5]]), .init(title: "q", probabilities: [[1, 0], [0, 1], [0, 1]])],
                                 components: [.init(center: (0, 0), covariance: (100, 0, 100)), .init(center: (2, 1), covariance: (0.1, 0.05, 0.1))],
                                 xLabel: "a", yLabel: "b", table: [("KL", "0.1")])
        let svg = scatter.rendered()
        XCTAssertEqual(svg.components(separatedBy: "<clipPath").count - 1, 2)
        XCTAssertEqual(svg.components(separatedBy: "clip-path=\"url(#panel").count - 1, 2)
        XCTAssertEqual(svg.components(separatedBy: "<polygon").count - 1, 4, "two ellipses in each panel")
        XCTAssertTrue(svg.contains(">component 2<"))
        XCTAssertTrue(svg.contains("rgb(122,79,110)"), "the half-and-half point mixes the two colours")
    }

    /// The PNG's compressed rows back through an independent decoder (the gzip reader of
    /// `Datasets`), for images of runs, noise and every byte value.
    func testEncodedPNGDecodesToItsPixels() throws {
        var generator = RandomGenerator(seed: 9)
        let noise = Tensor.randomUniform([1, 40 * 37], using: &generator)
        let ramp = Tensor((0..<(16 * 16)).map { Float($0) / 255 }).reshaped(to: [1, 256])
        let images = [PNGImage.grid(Tensor.randomUniform([20, 49], using: &generator).mapped { $0 > 0.7 ? 1 : 0 }, imageShape: [7, 7], columns: 6),
                      PNGImage.grid(noise, imageShape: [40, 37], columns: 1, scale: 1, gap: 0),
                      PNGImage.grid(ramp, imageShape: [16, 16], columns: 1, scale: 5, gap: 1),
                      PNGImage(width: 1000, height: 3, fill: 7)]
        for image in images {
            let file = image.encoded()
            XCTAssertEqual(Array(file.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let idat = try XCTUnwrap(file.indices.first { Array(file[$0..<($0 + 4)]) == Array("IDAT".utf8) })
            let length = file[(idat - 4)..<idat].reduce(0) { $0 << 8 | Int($1) }
            let zlib = Array(file[(idat + 4)..<(idat + 4 + length)])
            XCTAssertEqual(Array(zlib.prefix(2)), [0x78, 0x01])
            let deflate = Array(zlib[2..<(zlib.count - 4)])
            var expected: [UInt8] = []
            for y in 0..<image.height {
                expected.append(2)
                for x in 0..<image.width { expected.append(image.pixels[y * image.width + x] &- (y > 0 ? image.pixels[(y - 1) * image.width + x] : 0)) }
            }
            let crc = expected.withUnsafeBufferPointer { latent_crc32(0, $0.baseAddress, Int64($0.count)) }
            let member: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF] + deflate
                + withUnsafeBytes(of: crc.littleEndian, Array.init) + withUnsafeBytes(of: UInt32(expected.count).littleEndian, Array.init)
            XCTAssertEqual(try Gzip.decompress(member, path: "png"), expected)
        }
        XCTAssertLessThan(images[0].encoded().count, images[0].pixels.count / 4, "runs compress")
    }

    /// A stream of 9 MB with back-references over the places where the decompressor hands its
    /// output on (every 4 MiB, keeping 32 KiB), decompressed to a cache file as it was written.
    func testLargeGzipStreamsToItsCacheFile() throws {
        var generator = RandomGenerator(seed: 3)
        let noise = Tensor.randomUniform([1, 1500 * 1500], using: &generator)
        let image = PNGImage.grid(noise, imageShape: [1500, 1500], columns: 1, scale: 2, gap: 0)
        let file = image.encoded()
        let idat = try XCTUnwrap(file.indices.first { Array(file[$0..<($0 + 4)]) == Array("IDAT".utf8) })
        let length = file[(idat - 4)..<idat].reduce(0) { $0 << 8 | Int($1) }
        let deflate = Array(file[(idat + 6)..<(idat + 4 + length - 4)])
        var expected: [UInt8] = []
        expected.reserveCapacity(image.height * (image.width + 1))
        for y in 0..<image.height {
            expected.append(2)
            for x in 0..<image.width { expected.append(image.pixels[y * image.width + x] &- (y > 0 ? image.pixels[(y - 1) * image.width + x] : 0)) }
        }
        XCTAssertGreaterThan(expected.count, 2 << 22)
        let crc = expected.withUnsafeBufferPointer { latent_crc32(0, $0.baseAddress, Int64($0.count)) }
        let member: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF] + deflate
            + withUnsafeBytes(of: crc.littleEndian, Array.init) + withUnsafeBytes(of: UInt32(expected.count).littleEndian, Array.init)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("big.gz").path
        try Data(member + member).write(to: URL(fileURLWithPath: path))
        let cache = try DecompressedCache.file(for: path)
        XCTAssertTrue([UInt8](try Data(contentsOf: URL(fileURLWithPath: cache))) == expected + expected, "two members, each checked and handed on whole")
    }
}

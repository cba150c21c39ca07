import Foundation
import XCTest

/// Data larger than what training keeps in memory: the training images stay on disk as bytes,
/// so the peak memory of `latent train` does not grow with the number of images.
final class LargeDataTests: XCTestCase {
    func testPeakMemoryDoesNotGrowWithTheData() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("latent-large-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        var peaks: [Int] = []
        for images in [5_000, 100_000] {
            let folder = root.appendingPathComponent("\(images)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try writeImages(images, to: folder.appendingPathComponent("train-images-idx3-ubyte"))
            try writeImages(200, to: folder.appendingPathComponent("t10k-images-idx3-ubyte"))
            let run = try LatentProcess.run(["train", "bernoulli-vae", "--data", folder.path, "--epochs", "1", "--hidden", "16", "--latent-dim", "2",
                                             "--out", root.appendingPathComponent("run-\(images)").path, "--json"])
            XCTAssertEqual(run.status, 0, run.error.joined(separator: "\n"))
            let report = try XCTUnwrap(run.out.last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            peaks.append(try XCTUnwrap(report["peak_memory_bytes"] as? Int))
        }
        // 95,000 more images are 74 MB as bytes and 298 MB as Float; the peak grows by far less.
        XCTAssertLessThan(peaks[1] - peaks[0], 12_000_000, "peaks \(peaks)")
    }

    /// An IDX file of `count` 28 x 28 images of random strokes.
    func writeImages(_ count: Int, to url: URL) throws {
        var bytes: [UInt8] = [0, 0, 8, 3] + [count, 28, 28].flatMap { withUnsafeBytes(of: UInt32($0).bigEndian, Array.init) }
        bytes.reserveCapacity(bytes.count + count * 784)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<(count * 784) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(state >> 61 == 0 ? UInt8(truncatingIfNeeded: state >> 40) : 0)
        }
        try Data(bytes).write(to: url)
    }
}

import CKernels
import Datasets
import Foundation
import TensorCore
import XCTest

/// Rows left on disk read as the same numbers as the file read whole; gzip files go through a
/// cache file that is made once, remade when the `.gz` changes, and never left half-written.
final class OnDiskRowsTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-rows-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: folder) }

    /// An MNIST-style folder of `count` training and 7 test images of `side` random bytes.
    func writeFolder(count: Int, seed: UInt64, side: (Int, Int) = (5, 3)) throws -> [UInt8] {
        var generator = RandomGenerator(seed: seed)
        func idx(_ images: Int) -> [UInt8] {
            let header: [UInt8] = [0, 0, 8, 3] + [images, side.0, side.1].flatMap { withUnsafeBytes(of: UInt32($0).bigEndian, Array.init) }
            return header + (0..<(images * side.0 * side.1)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        let train = idx(count)
        try Data(train).write(to: folder.appendingPathComponent("train-images-idx3-ubyte"))
        try Data(idx(7)).write(to: folder.appendingPathComponent("t10k-images-idx3-ubyte"))
        return train
    }

    func testRowsOnDiskReadAsTheFileReadWhole() throws {
        let bytes = try writeFolder(count: 300, seed: 4)
        let data = try Dataset.load(folder.path)
        let whole = try IDXFile.parse(bytes, source: "train", scale: 1.0 / 255).reshaped(to: [300, 15])
        XCTAssertTrue(data.train.isOnDisk)
        XCTAssertEqual(data.train.rowShape, [15])
        var generator = RandomGenerator(seed: 1)
        let shuffled = generator.permutation(300)
        for indices in [Array(0..<300), shuffled, [5, 5, 4, 299, 0], Array(100..<228), []] {
            let read = try data.train.rows(at: indices)
            XCTAssertEqual(read.shape, [indices.count, 15])
            XCTAssertEqual(read.scalars, whole.rows(at: indices).scalars, "bitwise the same numbers")
            let binary = try data.train.thresholded().rows(at: indices)
            XCTAssertEqual(binary.scalars, whole.rows(at: indices).scalars.map { $0 > 0.5 ? 1 : 0 })
        }
        let chosen = data.train.selecting([7, 3, 250])
        XCTAssertEqual(chosen.rowCount, 3)
        XCTAssertEqual(try chosen.rows(at: [2, 0]).scalars, whole.rows(at: [250, 7]).scalars)
    }

    /// A `.npy` file of `values` with NumPy's version-1 header.
    func npy(_ name: String, descr: String, shape: [Int], payload: [UInt8]) throws -> String {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0] + withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian, Array.init) + Array(header.utf8) + payload
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func testNPYRowsStayOnDiskAndReadAsTheFileReadWhole() throws {
        var generator = RandomGenerator(seed: 3)
        let values = Tensor.randomNormal([50, 4], using: &generator).scalars
        let floats = try npy("points.npy", descr: "<f4", shape: [50, 4], payload: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        let points = try Dataset.load(floats)
        XCTAssertTrue(points.train.isOnDisk)
        XCTAssertEqual(points.train.rowCount + points.test.rowCount, 50)
        let whole = try NPYFile.read(floats)
        XCTAssertEqual(try points.train.tensor().scalars, whole.rows(at: points.trainRows).scalars)
        XCTAssertEqual(try points.test.tensor().scalars, whole.rows(at: points.testRows).scalars)
        let pixels = (0..<(30 * 6)).map { UInt8(($0 * 37) % 256) }
        let images = try Dataset.load(try npy("faces.npy", descr: "|u1", shape: [30, 3, 2], payload: pixels))
        XCTAssertEqual(images.imageShape, [3, 2])
        XCTAssertEqual(try images.train.tensor().scalars, try NPYFile.read(folder.appendingPathComponent("faces.npy").path).reshaped(to: [30, 6]).rows(at: images.trainRows).scalars.map { $0 * (1.0 / 255) })
        var broken = values
        broken[77] = .nan
        let nan = try npy("nan.npy", descr: "<f4", shape: [50, 4], payload: broken.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        XCTAssertThrowsError(try Dataset.load(nan)) { error in
            XCTAssertEqual("\(error)", "\(nan): row 19, number 1 holds nan; the data must be finite numbers")
        }
        var doubles = values.map(Double.init)
        doubles[130] = 1e300
        let huge = try npy("huge.npy", descr: "<f8", shape: [50, 4], payload: doubles.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        XCTAssertThrowsError(try Dataset.load(huge)) { error in
            XCTAssertEqual("\(error)", "\(huge): row 32, number 2 holds a number beyond the range of a 32-bit float (magnitudes up to 3.4e38); the data must be finite numbers")
        }
        let text = folder.appendingPathComponent("huge.csv").path
        try "a,b\n1,2\n3,-1e39\n4,5\n".write(toFile: text, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try Dataset.load(text)) { error in
            XCTAssertEqual("\(error)", "\(text):3:2: '-1e39' is beyond the range of a 32-bit float (magnitudes up to 3.4e38)")
        }
    }

    /// A minibatch of more than 64 KB is read by the compute threads, each a part of its rows:
    /// the same numbers with any number of threads, and a failure names the first failing row.
    func testRowsReadByThreadsAreTheRowsReadByOne() throws {
        let bytes = try writeFolder(count: 400, seed: 6, side: (28, 28))
        let data = try Dataset.load(folder.path)
        let whole = try IDXFile.parse(bytes, source: "train", scale: 1.0 / 255).reshaped(to: [400, 784])
        let saved = ComputeThreads.count
        defer { ComputeThreads.count = saved }
        var generator = RandomGenerator(seed: 2)
        let batches = [generator.permutation(400), Array(generator.permutation(400).prefix(129)), Array(0..<90) + [3, 3, 399]]
        for threads in [1, 2, 3] {
            ComputeThreads.count = threads
            for indices in batches {
                XCTAssertEqual(try data.train.rows(at: indices).scalars, whole.rows(at: indices).scalars, "\(threads) threads")
                XCTAssertEqual(try data.train.thresholded().rows(at: indices).scalars, whole.rows(at: indices).scalars.map { $0 > 0.5 ? 1 : 0 })
            }
        }
        let path = folder.appendingPathComponent("train-images-idx3-ubyte").path
        XCTAssertEqual(truncate(path, off_t(16 + 784 * 300)), 0)
        for threads in [1, 2] {
            ComputeThreads.count = threads
            XCTAssertThrowsError(try data.train.rows(at: Array(0..<100) + [350] + Array(100..<200) + [310])) { error in
                XCTAssertEqual("\(error)", "\(path): reading row 350: the file ended early; it was changed while being read", "\(threads) threads")
            }
        }
    }

    func testAFileChangedUnderneathIsAnErrorNamingIt() throws {
        _ = try writeFolder(count: 40, seed: 5)
        let data = try Dataset.load(folder.path)
        let path = folder.appendingPathComponent("train-images-idx3-ubyte").path
        XCTAssertEqual(truncate(path, 16 + 15 * 10), 0)
        XCTAssertThrowsError(try data.train.rows(at: [39])) { error in
            XCTAssertEqual("\(error)", "\(path): reading row 39: the file ended early; it was changed while being read")
        }
        XCTAssertThrowsError(try Dataset.load(folder.path)) { error in
            XCTAssertEqual("\(error)", "\(path): IDX: the header promises 40 x 5 x 3 = 600 bytes of data, the file has 150")
        }
    }

    func testGzipCacheIsRemadeWhenTheFileChangesAndGoesToTheGivenFolder() throws {
        let path = folder.appendingPathComponent("rows.gz").path
        try Data(gzip(Array("first version of the rows".utf8))).write(to: URL(fileURLWithPath: path))
        var notices = 0
        let cache = try DecompressedCache.file(for: path, notice: { _ in notices += 1 })
        XCTAssertTrue(cache.hasPrefix(folder.appendingPathComponent("rows.").path) && cache.hasSuffix(".decompressed"), cache)
        XCTAssertEqual(try String(contentsOfFile: cache, encoding: .utf8), "first version of the rows")
        _ = try DecompressedCache.file(for: path, notice: { _ in notices += 1 })
        XCTAssertEqual(notices, 1)
        // Another file of the same length, even with an older date, gets a copy of its own.
        try Data(gzip(Array(Array("a second version, the same".utf8).prefix(25)))).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: path)
        let second = try DecompressedCache.file(for: path, notice: { _ in notices += 1 })
        XCTAssertEqual(notices, 2)
        XCTAssertNotEqual(second, cache)
        XCTAssertEqual(try String(contentsOfFile: second, encoding: .utf8), "a second version, the sam")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache), "the copy of the old file is removed")
        // A given folder holds the copy instead; a damaged file leaves no cache behind.
        let elsewhere = folder.appendingPathComponent("cache").path
        let copy = try DecompressedCache.file(for: path, folder: elsewhere)
        XCTAssertTrue(copy.hasPrefix(elsewhere + "/") && copy.hasSuffix(".decompressed"), copy)
        var damaged = gzip(Array(repeating: 65, count: 1000))
        damaged[damaged.count - 6] ^= 0xFF
        let damagedPath = folder.appendingPathComponent("damaged.gz").path
        try Data(damaged).write(to: URL(fileURLWithPath: damagedPath))
        XCTAssertThrowsError(try DecompressedCache.file(for: damagedPath)) { error in
            XCTAssertEqual("\(error)", "\(damagedPath): gzip: CRC-32 mismatch: the file is damaged")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        XCTAssertFalse(left.contains { $0.hasPrefix("damaged.") && $0.hasSuffix(".decompressed") }, "\(left)")
    }

    /// `bytes` in one gzip member of stored DEFLATE blocks.
    func gzip(_ bytes: [UInt8]) -> [UInt8] {
        var deflate: [UInt8] = []
        var start = 0
        repeat {
            let end = Swift.min(start + 65_535, bytes.count)
            let length = UInt16(end - start)
            deflate += [end == bytes.count ? 1 : 0] + withUnsafeBytes(of: length.littleEndian, Array.init) + withUnsafeBytes(of: (~length).littleEndian, Array.init)
            deflate += bytes[start..<end]
            start = end
        } while start < bytes.count
        let crc = bytes.withUnsafeBufferPointer { latent_crc32(0, $0.baseAddress, Int64($0.count)) }
        return [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF] + deflate
            + withUnsafeBytes(of: crc.littleEndian, Array.init) + withUnsafeBytes(of: UInt32(bytes.count).littleEndian, Array.init)
    }
}

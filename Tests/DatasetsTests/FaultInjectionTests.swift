import Datasets
import Foundation
import TensorCore
import XCTest

/// Every reader against crafted headers (overflowing, zero, negative dimensions, rank 0 and
/// 255, lying counts) and, with a fixed seed, hundreds of random byte flips and truncations of
/// a valid file: each must throw an error naming the file, or read something consistent with
/// its own header. A trap would end the test process, failing the suite.
final class FaultInjectionTests: XCTestCase {
    let mutationsPerFormat = 400

    /// `bytes` with 1 to 4 bytes flipped, or cut short, drawn from `generator`.
    func mutated(_ bytes: [UInt8], _ generator: inout RandomGenerator) -> [UInt8] {
        var copy = bytes
        if generator.next() % 3 == 0 {
            return Array(copy.prefix(Int(generator.next() % UInt64(max(copy.count, 1)))))
        }
        for _ in 0...(generator.next() % 4) {
            let position = Int(generator.next() % UInt64(max(copy.count, 1)))
            copy[position] ^= UInt8(1 + generator.next() % 255)
        }
        return copy
    }

    func assertNamesTheFile(_ error: any Error, _ source: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue("\(error)".hasPrefix(source), "error does not name \(source): \(error)", file: file, line: line)
        XCTAssertFalse("\(error)".contains("\n"), "error is more than one line: \(error)", file: file, line: line)
    }

    func idx(_ dimensions: [UInt32], data: [UInt8], rank: UInt8? = nil) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 8, rank ?? UInt8(dimensions.count)]
        for d in dimensions { bytes += [UInt8(d >> 24), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return bytes + data
    }

    func testIDXHeadersAndMutations() throws {
        let crafted: [[UInt8]] = [
            idx([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: [1, 2, 3]),
            idx([1 << 31, 1 << 31], data: []),
            [0, 0, 8, 255] + [UInt8](repeating: 0xFF, count: 1020),
            [0, 0, 8, 255] + [UInt8](repeating: 0, count: 1020),
            idx([], data: [7]),
            idx([0, 28, 28], data: []),
            idx([3, 2, 2], data: [UInt8](repeating: 1, count: 11)),
            idx([3, 2, 2], data: [UInt8](repeating: 1, count: 13)),
            idx([3, 2, 2], data: [], rank: 9),
            [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0],
        ]
        for bytes in crafted {
            do {
                let tensor = try IDXFile.parse(bytes, source: "crafted.idx")
                XCTAssertEqual(tensor.count, bytes.count - 4 - 4 * Int(bytes[3]), "a read must use every data byte")
            } catch {
                assertNamesTheFile(error, "crafted.idx")
            }
        }
        let valid = idx([3, 2, 2], data: (0..<12).map(UInt8.init))
        var generator = RandomGenerator(seed: 1)
        for _ in 0..<mutationsPerFormat {
            let bytes = mutated(valid, &generator)
            do {
                let tensor = try IDXFile.parse(bytes, source: "mutated.idx")
                XCTAssertEqual(tensor.scalars, bytes.suffix(tensor.count).map(Float.init))
            } catch {
                assertNamesTheFile(error, "mutated.idx")
            }
        }
    }

    func npy(_ header: String, data: [UInt8], version: UInt8 = 1) -> [UInt8] {
        var text = Array(header.utf8)
        while (10 + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [version, 0, UInt8(text.count & 255), UInt8(text.count >> 8)] + text + data
    }

    func testNPYHeadersAndMutations() throws {
        let f4 = { (shape: String) in "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }" }
        let crafted: [[UInt8]] = [
            npy(f4("(1099511627776, 1099511627776)"), data: [0, 0, 0, 0]),
            npy(f4("(9223372036854775807, 2)"), data: []),
            npy(f4("(-3, 2)"), data: [UInt8](repeating: 0, count: 24)),
            npy(f4("()"), data: [0, 0, 128, 63]),
            npy(f4("(10, 0)"), data: []),
            npy(f4("(2, 2)"), data: [UInt8](repeating: 0, count: 15)),
            npy(f4("(2, x)"), data: [UInt8](repeating: 0, count: 8)),
            npy("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)),
            npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", data: [0, 0, 0, 0]),
            npy(f4("(1,)"), data: [0, 0, 0, 0], version: 7),
            [0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F],
        ]
        for bytes in crafted {
            do {
                let tensor = try NPYFile.parse(bytes, source: "crafted.npy")
                XCTAssertLessThanOrEqual(tensor.count * 4, bytes.count)
            } catch {
                assertNamesTheFile(error, "crafted.npy")
            }
        }
        let valid = npy(f4("(2, 3)"), data: (0..<6).flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) })
        var generator = RandomGenerator(seed: 2)
        for _ in 0..<mutationsPerFormat {
            let bytes = mutated(valid, &generator)
            do {
                let tensor = try NPYFile.parse(bytes, source: "mutated.npy")
                XCTAssertLessThanOrEqual(tensor.count, bytes.count, "a read cannot hold more numbers than the file has bytes")
            } catch {
                assertNamesTheFile(error, "mutated.npy")
            }
        }
    }

    func testCSVMutations() throws {
        let valid = Array("x,y,z\n1.5,2,3\n-4,5e2,6\n7,8,9.25\n".utf8)
        var generator = RandomGenerator(seed: 3)
        for _ in 0..<mutationsPerFormat {
            let text = String(decoding: mutated(valid, &generator), as: UTF8.self)
            do {
                let table = try CSVFile.parse(text, source: "mutated.csv").values
                XCTAssertEqual(table.rank, 2)
                XCTAssertTrue(table.isFinite, "a read holds only finite numbers")
            } catch {
                assertNamesTheFile(error, "mutated.csv")
            }
        }
    }

    func testGzipMutations() throws {
        let valid = [UInt8](Data(base64Encoded: GzipFixtures.dynamic)!)
        let original = try Gzip.decompress(valid, path: "original.gz")
        var generator = RandomGenerator(seed: 4)
        for _ in 0..<mutationsPerFormat {
            let bytes = mutated(valid, &generator)
            guard Gzip.isCompressed(bytes) else { continue }
            do {
                let output = try Gzip.decompress(bytes, path: "mutated.gz")
                XCTAssertEqual(output, original, "a read past the CRC check is the original")
            } catch {
                assertNamesTheFile(error, "mutated.gz")
            }
        }
        let bomb: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF] + [0x03, 0x00] + [0, 0, 0, 0] + [0xFF, 0xFF, 0xFF, 0xFF]
        XCTAssertThrowsError(try Gzip.decompress(bomb, path: "claims-4GiB.gz")) { self.assertNamesTheFile($0, "claims-4GiB.gz") }
    }
}

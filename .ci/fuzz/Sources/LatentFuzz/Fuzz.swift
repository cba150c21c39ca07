import Foundation
import Latent

/// One fuzz target per reader: the bytes go in, and any error is fine; a trap, an overflow or
/// a memory error (AddressSanitizer) ends the run with the input that caused it.
let targets: [String: @Sendable ([UInt8]) -> Void] = [
    "idx": { _ = try? IDXFile.parse($0, source: "fuzz") },
    "npy": { _ = try? NPYFile.parse($0, source: "fuzz") },
    "csv": { _ = try? CSVFile.parse(String(decoding: $0, as: UTF8.self), source: "fuzz") },
    "gzip": { _ = try? Gzip.decompress($0, path: "fuzz") },
    "checkpoint": { _ = try? Checkpoint(decoding: Data($0), source: "fuzz") },
    "checkpoint-body": { _ = try? Checkpoint(decoding: Data(withValidChecksum($0)), source: "fuzz") },
]

/// `bytes` with its last four bytes replaced by the CRC-32 of the rest, so that mutations reach
/// the header and tensor parsing behind the checksum.
func withValidChecksum(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.count >= 4 else { return bytes }
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes.dropLast(4) {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return Array(bytes.dropLast(4)) + withUnsafeBytes(of: (~crc).littleEndian, Array.init)
}

/// A valid file of each format, to start the corpus from.
func seed(_ name: String) throws -> [UInt8] {
    switch name {
    case "checkpoint-body": return try seed("checkpoint")
    case "idx": return [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + (0..<8).map(UInt8.init)
    case "npy":
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count + 1), 0] + header + [0x0A] + [UInt8](repeating: 0x3F, count: 16)
    case "csv": return Array("a,b,c\n1,2.5,-3e1\n4,5,6\n".utf8)
    case "gzip": return [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 2, 0xFF, 0x4B, 0x4C, 0x4A, 0x06, 0x00, 0xC2, 0x41, 0x24, 0x35, 0x03, 0, 0, 0]
    default:
        let checkpoint = Checkpoint(modelParameters: ["w": Tensor([[1, 2], [3, 4]])], guideParameters: ["z.bias": Tensor([0.5])],
                                    guideConstants: ["input mean": Tensor([0])], optimizerState: ["step": Tensor(1)], metadata: ["model": "m", "epoch": "1"])
        return [UInt8](try checkpoint.encoded())
    }
}

typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>, _ callback: TestOneInput) -> Int32

nonisolated(unsafe) var chosen: ([UInt8]) -> Void = { _ in }

/// `LatentFuzz TARGET [libFuzzer options...]` fuzzes TARGET; `LatentFuzz seed TARGET FILE`
/// writes its seed file.
@_cdecl("LatentFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    let arguments = (0..<Int(argc)).map { String(cString: argv![$0]!) }
    if arguments.count == 4, arguments[1] == "seed" {
        guard let bytes = try? seed(arguments[2]), FileManager.default.createFile(atPath: arguments[3], contents: Data(bytes)) else { return 1 }
        return 0
    }
    guard arguments.count >= 2, let target = targets[arguments[1]] else {
        print("usage: LatentFuzz \(targets.keys.sorted().joined(separator: "|")) [libFuzzer options]")
        return 2
    }
    chosen = target
    var count = argc - 1
    var rest: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv! + 1
    rest![0] = argv![0]
    return runDriver(&count, &rest) { data, size in
        chosen(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}

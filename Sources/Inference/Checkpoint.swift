import CKernels
import Foundation
import TensorCore

/// Everything needed to resume training exactly: parameters, optimizer state, position and
/// random-generator states.
///
/// File layout: the 8 bytes `LATENTCK`, a format version (UInt32, little endian), the length of
/// a JSON header (UInt32) and the header (names, shapes, metadata), the tensors' floats
/// (little endian), and a CRC-32 of everything before it. Written to a temporary file in the
/// same folder and renamed over the target, so a crash never leaves a half-written checkpoint.
public struct Checkpoint: Equatable {
    public static let formatVersion: UInt32 = 1
    static let magic = Array("LATENTCK".utf8)

    /// Unconstrained parameters by name.
    public var parameters: [String: Tensor]
    /// Optimizer state by name.
    public var optimizerState: [String: Tensor]
    /// Free-form facts: model name, epoch, step, options, generator positions.
    public var metadata: [String: String]

    public init(parameters: [String: Tensor], optimizerState: [String: Tensor], metadata: [String: String]) {
        self.parameters = parameters
        self.optimizerState = optimizerState
        self.metadata = metadata
    }

    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.metadata == b.metadata && same(a.parameters, b.parameters) && same(a.optimizerState, b.optimizerState)
    }

    static func same(_ a: [String: Tensor], _ b: [String: Tensor]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { name, t in b[name].map { $0.shape == t.shape && $0.scalars == t.scalars } ?? false }
    }

    struct Header: Codable {
        var tensors: [Entry]
        var metadata: [String: String]
        struct Entry: Codable {
            var name: String
            var group: String
            var shape: [Int]
        }
    }

    /// The checkpoint as bytes.
    public func encoded() throws -> Data {
        let groups = [("parameter", parameters), ("optimizer", optimizerState)]
        var entries: [Header.Entry] = []
        var floats: [Float] = []
        for (group, tensors) in groups {
            for name in tensors.keys.sorted() {
                let tensor = tensors[name]!
                entries.append(.init(name: name, group: group, shape: tensor.shape))
                floats += tensor.scalars
            }
        }
        let header = try JSONEncoder().encode(Header(tensors: entries, metadata: metadata))
        var data = Data(Self.magic)
        append(Self.formatVersion, to: &data)
        append(UInt32(header.count), to: &data)
        data.append(header)
        floats.withUnsafeBytes { data.append(contentsOf: $0) }
        append(CRC32.checksum(data), to: &data)
        return data
    }

    /// Reads a checkpoint, checking its magic number, version, sizes and checksum.
    public init(decoding data: Data, source: String) throws {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> CheckpointError { CheckpointError.corrupt(path: source, reason: reason) }
        guard bytes.count >= 20, Array(bytes[0..<8]) == Self.magic else { throw fail("not a Latent checkpoint (bad magic number)") }
        let version = littleEndianWord(bytes, 8)
        guard version == Self.formatVersion else { throw CheckpointError.unsupportedVersion(path: source, version: Int(version), supported: Int(Self.formatVersion)) }
        let stored = littleEndianWord(bytes, bytes.count - 4)
        guard CRC32.checksum(Data(bytes[0..<(bytes.count - 4)])) == stored else { throw fail("checksum mismatch: the file is truncated or damaged") }
        let headerLength = Int(littleEndianWord(bytes, 12))
        guard 16 + headerLength <= bytes.count - 4 else { throw fail("header length \(headerLength) runs past the end") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + headerLength)]))
        } catch {
            throw fail("unreadable header")
        }
        var offset = 16 + headerLength
        var parameters: [String: Tensor] = [:], optimizer: [String: Tensor] = [:]
        for entry in header.tensors {
            guard entry.shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(entry.name)' has a negative dimension") }
            let count = entry.shape.reduce(1, *)
            guard offset + 4 * count <= bytes.count - 4 else { throw fail("tensor '\(entry.name)' runs past the end") }
            let values = bytes[offset..<(offset + 4 * count)].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            offset += 4 * count
            let tensor = Tensor(shape: entry.shape, scalars: values)
            if entry.group == "parameter" { parameters[entry.name] = tensor } else { optimizer[entry.name] = tensor }
        }
        guard offset == bytes.count - 4 else { throw fail("\(bytes.count - 4 - offset) unexpected bytes after the tensors") }
        self.init(parameters: parameters, optimizerState: optimizer, metadata: header.metadata)
    }

    /// Writes atomically to `path`: a temporary file beside it, then a rename.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try encoded().write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.unwritable(path: path, reason: error.localizedDescription)
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.unwritable(path: path, reason: reason)
        }
    }

    /// Reads the checkpoint at `path`.
    public static func read(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError.missing(path: path) }
        return try Checkpoint(decoding: data, source: path)
    }
}

/// A checkpoint that cannot be read or written.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case corrupt(path: String, reason: String)
    case unsupportedVersion(path: String, version: Int, supported: Int)
    case unwritable(path: String, reason: String)
    case mismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path): return "checkpoint \(path) does not exist"
        case let .corrupt(path, reason): return "checkpoint \(path) is corrupt: \(reason)"
        case let .unsupportedVersion(path, version, supported): return "checkpoint \(path) has format version \(version); this build reads version \(supported)"
        case let .unwritable(path, reason): return "cannot write checkpoint \(path): \(reason)"
        case let .mismatch(path, reason): return "checkpoint \(path) does not fit this model: \(reason)"
        }
    }
}

private func append(_ value: UInt32, to data: inout Data) {
    withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
}

private func littleEndianWord(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
}

/// CRC-32 of a byte buffer (the kernel layer's, shared with the gzip and PNG code).
enum CRC32 {
    static func checksum(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { buffer in
            latent_crc32(0, buffer.bindMemory(to: UInt8.self).baseAddress, Int64(buffer.count))
        }
    }
}

import CKernels
import Foundation
import TensorCore

/// Everything needed to resume training exactly: the model's and the guide's parameters, the
/// guide's input scaling, the optimizer's state, and the position and random-generator states.
///
/// File layout: the 8 bytes `LATENTCK`, a format version (UInt32, little endian), the length of
/// a JSON header (UInt32) and the header (names, groups, shapes, metadata), the tensors' floats
/// (little endian), and a CRC-32 of everything before it. Written to a temporary file in the
/// same folder and renamed over the target, so a crash never leaves a half-written checkpoint.
public struct Checkpoint: Equatable {
    public static let formatVersion: UInt32 = 2
    static let magic = Array("LATENTCK".utf8)

    /// The model's unconstrained parameters by name.
    public var modelParameters: [String: Tensor]
    /// The guide's unconstrained parameters by name.
    public var guideParameters: [String: Tensor]
    /// The guide's fixed tensors: the mean and scale its encoders standardize inputs with.
    public var guideConstants: [String: Tensor]
    /// Optimizer state by name.
    public var optimizerState: [String: Tensor]
    /// Free-form facts: model name, epoch, options, generator positions.
    public var metadata: [String: String]
    /// The file it was read from, for messages ("(in memory)" for one made here).
    public var source = "(in memory)"

    public init(modelParameters: [String: Tensor], guideParameters: [String: Tensor], guideConstants: [String: Tensor] = [:], optimizerState: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.modelParameters = modelParameters
        self.guideParameters = guideParameters
        self.guideConstants = guideConstants
        self.optimizerState = optimizerState
        self.metadata = metadata
    }

    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.metadata == b.metadata && zip(a.groups, b.groups).allSatisfy { same($0.1, $1.1) }
    }

    static func same(_ a: [String: Tensor], _ b: [String: Tensor]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { name, t in b[name].map { $0.shape == t.shape && $0.scalars == t.scalars } ?? false }
    }

    var groups: [(String, [String: Tensor])] {
        [("model", modelParameters), ("guide", guideParameters), ("guide constant", guideConstants), ("optimizer", optimizerState)]
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
        var entries: [Header.Entry] = []
        var floats: [Float] = []
        for (group, tensors) in groups {
            for name in tensors.keys.sorted() {
                let tensor = tensors[name]!
                entries.append(.init(name: name, group: group, shape: tensor.shape))
                floats += tensor.scalars
            }
        }
        let header = Data(try sortedJSON(Header(tensors: entries, metadata: metadata)).utf8)
        var data = Data(Self.magic)
        append(Self.formatVersion, to: &data)
        append(UInt32(header.count), to: &data)
        data.append(header)
        floats.withUnsafeBytes { data.append(contentsOf: $0) }
        append(CRC32.checksum(data), to: &data)
        return data
    }

    /// Reads a checkpoint, checking its magic number, version, checksum and every size against
    /// the bytes present before anything is allocated.
    public init(decoding data: Data, source: String) throws {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> CheckpointError { CheckpointError.corrupt(path: source, reason: reason) }
        guard bytes.count >= 20, Array(bytes[0..<8]) == Self.magic else { throw fail("not a Latent checkpoint (bad magic number)") }
        let version = littleEndianWord(bytes, 8)
        guard version == Self.formatVersion else { throw CheckpointError.unsupportedVersion(path: source, version: Int(version), supported: Int(Self.formatVersion)) }
        let stored = littleEndianWord(bytes, bytes.count - 4)
        guard CRC32.checksum(Data(bytes[0..<(bytes.count - 4)])) == stored else { throw fail("checksum mismatch: the file is truncated or damaged") }
        let end = bytes.count - 4
        let headerLength = Int(littleEndianWord(bytes, 12))
        guard headerLength <= end - 16 else { throw fail("header length \(headerLength) runs past the end") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + headerLength)]))
        } catch {
            throw fail("unreadable header")
        }
        var offset = 16 + headerLength
        var groups: [String: [String: Tensor]] = ["model": [:], "guide": [:], "guide constant": [:], "optimizer": [:]]
        for entry in header.tensors {
            guard groups[entry.group] != nil else { throw fail("tensor '\(entry.name)' is in an unknown group '\(entry.group)'") }
            guard groups[entry.group]![entry.name] == nil else { throw fail("tensor '\(entry.name)' appears twice in group '\(entry.group)'") }
            guard let count = Shape.checkedCount(entry.shape, limit: (end - offset) / 4) else {
                throw fail("tensor '\(entry.name)' of shape \(entry.shape) needs more bytes than the file has left")
            }
            let values = bytes[offset..<(offset + 4 * count)].withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            offset += 4 * count
            groups[entry.group]![entry.name] = Tensor(shape: entry.shape, scalars: values)
        }
        guard offset == end else { throw fail("\(end - offset) unexpected bytes after the tensors") }
        self.init(modelParameters: groups["model"]!, guideParameters: groups["guide"]!, guideConstants: groups["guide constant"]!, optimizerState: groups["optimizer"]!, metadata: header.metadata)
        self.source = source
    }

    /// Writes atomically to `path`: a temporary file beside it, flushed, then a rename.
    public func write(to path: String) throws {
        do {
            try AtomicFile.write(try encoded(), to: path)
        } catch {
            throw CheckpointError.unwritable(path: path, reason: describeFileError(error))
        }
    }

    /// Reads the checkpoint at `path`.
    public static func read(from path: String) throws -> Checkpoint {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CheckpointError.missing(path: path) }
        guard !isFolder.boolValue else { throw CheckpointError.corrupt(path: path, reason: "it is a folder, not a checkpoint file") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard attributes?[.type] as? FileAttributeType == .typeRegular else { throw CheckpointError.corrupt(path: path, reason: "it is not a regular file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.unreadable(path: path, reason: access(path, R_OK) != 0 ? String(cString: strerror(errno)) : "reading it failed")
        }
        return try Checkpoint(decoding: data, source: path)
    }
}

/// A checkpoint that cannot be read or written.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case corrupt(path: String, reason: String)
    case unsupportedVersion(path: String, version: Int, supported: Int)
    case unwritable(path: String, reason: String)
    case unreadable(path: String, reason: String)
    case mismatch(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path): return "checkpoint \(path) does not exist"
        case let .corrupt(path, reason): return "checkpoint \(path) is corrupt: \(reason)"
        case let .unsupportedVersion(path, version, supported): return "checkpoint \(path) has format version \(version); this build reads version \(supported)"
        case let .unwritable(path, reason): return "cannot write \(path): \(reason)"
        case let .unreadable(path, reason): return "cannot read checkpoint \(path): \(reason)"
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

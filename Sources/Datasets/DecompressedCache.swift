import Foundation
import TensorCore

/// Gzip files decompressed once to a file on disk, so that their rows can be read a minibatch
/// at a time: beside the `.gz` file (`NAME.gz` gives `NAME.F.decompressed`), or in `folder` when
/// one is given or the file's own folder cannot be written (then `LATENT_CACHE_DIR`, else
/// `~/.cache/latent`). `F` is a fingerprint of the `.gz` file (its size and its first and last
/// 64 KiB), so a changed file never meets the copy of the old one, which is removed.
public enum DecompressedCache {
    /// The path of the decompressed copy of the gzip file `path`, decompressing it first if no
    /// copy of this file exists; `notice` hears what is done before each attempt to decompress.
    public static func file(for path: String, folder: String? = nil, notice: ((String) -> Void)? = nil) throws -> String {
        let source = try MappedFile(path)
        return try withExtendedLifetime(source) {
            let bytes = source.bytes
            guard bytes.count >= 18, bytes[0] == 0x1F, bytes[1] == 0x8B else { throw DataError.corrupt(path: path, reason: "gzip: not a gzip file") }
            // The size and the first and last 64 KiB: a changed file (BGZF files all end alike)
            // gets a copy of its own.
            var hasher = Fingerprint()
            hasher.add(bytes.count)
            hasher.add(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[..<Swift.min(bytes.count, 1 << 16)]))
            hasher.add(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[Swift.max(0, bytes.count - (1 << 16))...]))
            let candidates = cachePaths(for: path, folder: folder, fingerprint: hasher.value)
            // Written atomically, a copy that exists is whole.
            if let existing = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return existing }
            var lastError: (any Error)?
            for candidate in candidates {
                do {
                    try FileManager.default.createDirectory(atPath: (candidate as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    notice?("decompressing \(path) once to \(candidate) (later runs read it from there)")
                    try AtomicFile.write(to: candidate) { append in
                        try withoutActuallyEscaping(append) { try Gzip.decompress(bytes, path: path, into: $0) }
                    }
                    removeOtherCopies(besides: candidate)
                    return candidate
                } catch let error as DataError {
                    throw error
                } catch {
                    lastError = error
                }
            }
            throw DataError.unsupported(path: path, reason: "no folder to decompress it into could be written (\(lastError.map { "\($0)" } ?? "none given")); set LATENT_CACHE_DIR to a writable folder")
        }
    }

    /// True when the file at `path` starts with the gzip magic number (false for what is not a
    /// readable regular file, which is not opened: a pipe with no writer would wait forever).
    public static func isGzip(_ path: String) -> Bool {
        guard (try? checkReadable(path)) != nil, let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let start = [UInt8]((try? handle.read(upToCount: 2)) ?? Data())
        return Gzip.isCompressed(start)
    }

    /// Where the copy of `path` may go, in order: the given folder, else beside the file (unless
    /// its folder is marked read-only), then `LATENT_CACHE_DIR`, then the user's cache folder.
    static func cachePaths(for path: String, folder: String?, fingerprint: UInt64) -> [String] {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let name = ((absolute as NSString).lastPathComponent as NSString).deletingPathExtension + "." + String(fingerprint, radix: 16) + ".decompressed"
        var hasher = Fingerprint()
        hasher.add(absolute)
        let shared = String(hasher.value, radix: 16) + "-" + name
        if let folder { return [(folder as NSString).appendingPathComponent(shared)] }
        let beside = (absolute as NSString).deletingLastPathComponent
        // A folder marked read-only is left alone even by a user (root) who could write in it.
        let permissions = (try? FileManager.default.attributesOfItem(atPath: beside))?[.posixPermissions] as? Int ?? 0
        var paths = permissions & 0o222 != 0 ? [(beside as NSString).appendingPathComponent(name)] : []
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["LATENT_CACHE_DIR"], !folder.isEmpty { paths.append((folder as NSString).appendingPathComponent(shared)) }
        let home = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? NSTemporaryDirectory()) as NSString).appendingPathComponent(".cache")
        paths.append(((home as NSString).appendingPathComponent("latent") as NSString).appendingPathComponent(shared))
        return paths
    }

    /// Deletes the copies of earlier versions of the same file beside `cache` (same name, another
    /// fingerprint).
    static func removeOtherCopies(besides cache: String) {
        let folder = (cache as NSString).deletingLastPathComponent
        let name = (cache as NSString).lastPathComponent
        let parts = name.split(separator: ".")
        guard parts.count >= 3 else { return }
        let stem = parts.dropLast(2).joined(separator: ".") + "."
        for other in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        where other != name && other.hasPrefix(stem) && other.hasSuffix(".decompressed") && other.dropFirst(stem.count).split(separator: ".").count == 2 {
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(other))
        }
    }
}

/// A file mapped read-only into memory (its pages come from the page cache as they are read).
final class MappedFile {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DataError.missing(path: path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw DataError.corrupt(path: path, reason: String(cString: strerror(errno))) }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw DataError.corrupt(path: path, reason: "cannot map it: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeBufferPointer(start: address.assumingMemoryBound(to: UInt8.self), count: size)
    }

    deinit {
        if let start = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: start), bytes.count) }
    }
}

import Foundation
import TensorCore

/// The folder a run writes into, held by one process at a time: a lock file inside it
/// (`.latent.lock`, an advisory `flock`) makes a second run on the same folder stop at once,
/// naming the process that holds it, instead of both writing over each other.
final class OutputFolder {
    let path: String
    private let descriptor: Int32

    /// Creates the folder at `path` and its missing parents, or says why not: a file where a
    /// parent folder should be, or the system's reason.
    static func create(_ path: String) throws {
        var ancestor = URL(fileURLWithPath: path).standardizedFileURL
        while ancestor.path != "/" {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isFolder) {
                guard isFolder.boolValue else { throw FileWriteError(path: path, reason: "\(ancestor.path) is a file, not a folder") }
                break
            }
            ancestor.deleteLastPathComponent()
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: path, reason: "cannot create the folder (\(describeFileError(error)))")
        }
    }

    /// Creates the folder if needed and takes its lock.
    init(_ path: String) throws {
        guard !path.isEmpty else { throw UsageError("the output folder (--out) must not be empty") }
        try Self.create(path)
        let lockPath = (path as NSString).appendingPathComponent(".latent.lock")
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: "cannot write in the folder (\(String(cString: strerror(errno))))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw UsageError("\(path) is in use by another latent process\(holder.isEmpty ? "" : " (pid \(holder))"); wait for it or choose another --out")
        }
        ftruncate(descriptor, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { Foundation.write(descriptor, $0, strlen($0)) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// The path of `name` in the folder.
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
}

/// Writes `text` to `path` atomically (or directly, to a device), with a readable error.
func writeText(_ text: String, to path: String) throws {
    try AtomicFile.write(Data(text.utf8), to: path)
}

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

    /// The files a training run writes in its folder.
    static let runFiles = ["checkpoint.latent", "metrics.jsonl", "elbo.svg", "samples.png", "reconstructions.png", "manifold.png", "report.html"]

    /// Where the files of the run a fresh run replaces are kept.
    var previous: String { Self.previous(in: path) }

    /// The folder inside `folder` that keeps the files of the run a fresh run replaced.
    static func previous(in folder: String) -> String { (folder as NSString).appendingPathComponent("previous") }

    /// Where the run kept in `previous` waits until the fresh run has written its own.
    var olderRun: String { file(".previous.\(getpid())") }

    /// Runs a stopped process left waiting aside (`olderRun` of another pid): the lock says no
    /// other process is at work in the folder, so none will put them back.
    func strandedRuns() -> [String] {
        let own = (olderRun as NSString).lastPathComponent
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix(".previous.") && $0 != own }.sorted().map(file)
    }

    /// What `setAsidePreviousRun` moved: the folder's run into `previous`, and whether a run
    /// kept there before went to `olderRun`.
    struct SetAside {
        let hadPrevious: Bool
    }

    /// The run files the folder holds when it holds no checkpoint but has a `previous`: those of
    /// a fresh run stopped before its first checkpoint, which cannot be resumed. A fresh run
    /// writes over them and leaves `previous` alone, as it keeps the run before them (setting
    /// them aside had put a killed run's first metrics line in place of that run).
    func filesOfAStoppedRun() -> [String] {
        let files = Self.runFiles.filter { FileManager.default.fileExists(atPath: file($0)) }
        var status = stat()
        return files.contains("checkpoint.latent") || lstat(previous, &status) != 0 ? [] : files
    }

    /// Moves the files of the run the folder holds (any of `runFiles`, which a fresh run would
    /// write over) into a new `previous`, the run kept there before waiting aside in
    /// `olderRun`, so that a fresh run loses nothing; nil when there was none. A `previous`
    /// holding anything a run does not write is left alone, and the run stops. A move that fails
    /// undoes the others.
    func setAsidePreviousRun() throws -> SetAside? {
        guard Self.runFiles.contains(where: { FileManager.default.fileExists(atPath: file($0)) }) else { return nil }
        var status = stat()
        let setAside = SetAside(hadPrevious: lstat(previous, &status) == 0)
        if setAside.hadPrevious {
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw FileWriteError(path: previous, reason: "it is a file or a link, not a folder; move it away to keep the run this one replaces")
            }
            let foreign = ((try? FileManager.default.contentsOfDirectory(atPath: previous)) ?? []).filter { !Self.runFiles.contains($0) }.sorted()
            guard foreign.isEmpty else {
                let named = foreign.prefix(3).joined(separator: ", ") + (foreign.count > 3 ? " and \(foreign.count - 3) more" : "")
                throw FileWriteError(path: previous, reason: "it holds files a run does not write (\(named)); move them away, or choose another --out, to keep the run this one replaces")
            }
            guard rename(previous, olderRun) == 0 else { throw FileWriteError(path: previous, reason: "cannot move it aside (\(String(cString: strerror(errno))))") }
        }
        do {
            try Self.create(previous)
            for name in Self.runFiles {
                if rename(file(name), (previous as NSString).appendingPathComponent(name)) != 0, errno != ENOENT {
                    throw FileWriteError(path: file(name), reason: "cannot move it to \(previous) (\(String(cString: strerror(errno))))")
                }
            }
        } catch {
            restore(setAside)
            throw error
        }
        return setAside
    }

    /// Puts back what `setAsidePreviousRun` moved. After a fresh run that stopped before its first
    /// checkpoint (`replacingFreshFiles`), what that run wrote (its first epoch's metrics line)
    /// goes too, as it cannot be resumed.
    func restore(_ setAside: SetAside, replacingFreshFiles: Bool = false) {
        for name in Self.runFiles {
            let kept = (previous as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: kept) {
                if replacingFreshFiles || !FileManager.default.fileExists(atPath: file(name)) { _ = rename(kept, file(name)) }
            } else if replacingFreshFiles {
                _ = unlink(file(name))
            }
        }
        _ = rmdir(previous)
        if setAside.hadPrevious { _ = rename(olderRun, previous) }
    }

    /// Drops the run that waited in `olderRun`, once the fresh run has written its own.
    func dropOlderRun() {
        try? FileManager.default.removeItem(atPath: olderRun)
    }
}

/// Writes `text` to `path` atomically (or directly, to a device), with a readable error.
func writeText(_ text: String, to path: String) throws {
    try AtomicFile.write(Data(text.utf8), to: path)
}

/// `path`, which `flag` names for a command's output, checked before any work: not a folder,
/// and not one of the files the command reads (`inputs`: the checkpoint, the data file, or a
/// data folder, any file in which it reads), which writing it would destroy.
func outputFile(_ path: String, flag: String, reading inputs: [String?]) throws -> String {
    guard !path.isEmpty else { throw UsageError("--\(flag) is empty; give a file name") }
    guard !path.hasSuffix("/") else { throw FileWriteError(path: path, reason: "it ends in '/', so it names a folder; --\(flag) takes a file name") }
    var output = stat()
    let exists = stat(path, &output) == 0
    if exists, output.st_mode & S_IFMT == S_IFDIR { throw FileWriteError(path: path, reason: "it is a folder") }
    // A device or a pipe is written directly.
    if exists, output.st_mode & S_IFMT != S_IFREG { return path }
    // Checked before the work, which can take minutes: a file is written beside itself, then renamed.
    let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
    var folderStatus = stat()
    guard stat(folder, &folderStatus) == 0, folderStatus.st_mode & S_IFMT == S_IFDIR else { throw FileWriteError(path: path, reason: "there is no folder \(folder)") }
    guard access(folder, W_OK | X_OK) == 0 else { throw FileWriteError(path: path, reason: "its folder \(folder) cannot be written (\(String(cString: strerror(errno))))") }
    guard exists else { return path }
    let same = { (a: stat, b: stat) in a.st_dev == b.st_dev && a.st_ino == b.st_ino }
    for case let input? in inputs {
        var read = stat()
        guard stat(input, &read) == 0 else { continue }
        if same(read, output) || (read.st_mode & S_IFMT == S_IFDIR && same(read, folderStatus)) {
            throw UsageError("--\(flag) \(path) is \(read.st_mode & S_IFMT == S_IFDIR ? "a file of \(input)" : input), which this command reads; write the output elsewhere")
        }
    }
    return path
}

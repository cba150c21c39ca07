import Foundation

/// Writes files so that a reader sees the old contents or the new, never a mix: the bytes go
/// to a temporary file beside the target (flushed to the disk), which is then renamed over it.
/// A symbolic link is followed, and the file it names is replaced, not the link. A device, a
/// pipe, or this process's own standard output or error (`/dev/stdout`, whatever it is
/// redirected to) is written directly, never replaced; a folder is an error.
package enum AtomicFile {
    /// Writes `data` to `path` atomically, or throws `FileWriteError` saying why not.
    package static func write(_ data: Data, to path: String) throws {
        try write(to: path) { append in try data.withUnsafeBytes { try append($0) } }
    }

    /// Writes to `path` atomically what `produce` hands to its `append`, piece by piece, so that
    /// a large file never sits whole in memory. An error from `produce` leaves the old file.
    package static func write(to path: String, _ produce: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        var status = stat()
        var isDevice = false
        if stat(path, &status) == 0 {
            if let stream = standardStream(sameAs: status) {
                fflush(nil)
                try produce { buffer in
                    if let failure = writeAll(buffer, to: stream) { throw FileWriteError(path: path, reason: failure) }
                }
                return
            }
            switch status.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw FileWriteError(path: path, reason: "it is a folder")
            case S_IFCHR, S_IFIFO: isDevice = true
            default: throw FileWriteError(path: path, reason: "it exists and is neither a regular file nor a device")
            }
        }
        let url = URL(fileURLWithPath: isDevice ? path : followingLinks(path))
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        if !isDevice { removeStaleTemporaries(of: name, in: folder) }
        let temporary = isDevice ? path : (folder as NSString).appendingPathComponent(".\(name).\(getpid()).tmp")
        let descriptor = isDevice ? open(path, O_WRONLY | O_CLOEXEC) : open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: String(cString: strerror(errno))) }
        do {
            try produce { buffer in
                if let failure = writeAll(buffer, to: descriptor) { throw FileWriteError(path: path, reason: failure) }
            }
        } catch {
            close(descriptor)
            if !isDevice { unlink(temporary) }
            throw error
        }
        if isDevice {
            close(descriptor)
            return
        }
        var failure: String?
        if fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        if close(descriptor) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil, rename(temporary, url.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw FileWriteError(path: path, reason: failure)
        }
        let folderDescriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }

    /// Standard output or standard error when `status` is the file it writes to, else nil: a
    /// file the shell redirected it to must keep its place, not be replaced by a rename.
    static func standardStream(sameAs status: stat) -> Int32? {
        for stream in [STDOUT_FILENO, STDERR_FILENO] {
            var open = stat()
            if fstat(stream, &open) == 0, open.st_dev == status.st_dev, open.st_ino == status.st_ino { return stream }
        }
        return nil
    }

    /// `path` with its symbolic links followed to the name they end at, which need not exist
    /// yet (at most 40 links, as the kernel allows).
    static func followingLinks(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            var status = stat()
            guard lstat(current, &status) == 0, status.st_mode & S_IFMT == S_IFLNK else { return current }
            var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &target, target.count - 1)
            guard length > 0 else { return current }
            let link = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(link)
        }
        return current
    }

    /// Writes every byte of `buffer`, retrying interrupted writes; the error's text, or nil.
    static func writeAll(_ buffer: UnsafeRawBufferPointer, to descriptor: Int32) -> String? {
        var offset = 0
        while offset < buffer.count {
            let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            offset += written
        }
        return nil
    }

    /// Deletes `.NAME.PID.tmp` files left beside `NAME` by processes that no longer run (a
    /// `kill -9` in the middle of a write).
    static func removeStaleTemporaries(of name: String, in folder: String) {
        let prefix = ".\(name)."
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder) else { return }
        for entry in entries where entry.hasPrefix(prefix) && entry.hasSuffix(".tmp") {
            let middle = entry.dropFirst(prefix.count).dropLast(4)
            guard let pid = Int32(middle), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink((folder as NSString).appendingPathComponent(entry))
        }
    }
}

/// A file that could not be written, and why (from the operating system).
package struct FileWriteError: Error, CustomStringConvertible {
    package let path: String
    package let reason: String

    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    package var description: String { "cannot write \(path): \(reason)" }
}

/// A file error from Foundation as a person reads it: the operating system's reason.
package func describeFileError(_ error: any Error) -> String {
    if let written = error as? FileWriteError { return written.reason }
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    switch CocoaError.Code(rawValue: ns.code) {
    case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
    case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
    case .fileWriteOutOfSpace: return "no space left on the device"
    case .fileWriteVolumeReadOnly: return "read-only file system"
    case .fileWriteFileExists: return "a file of that name exists"
    default: return ns.localizedDescription
    }
}

/// `value` as JSON with its keys sorted, so that the same value always gives the same bytes
/// (checkpoints and logs are then reproducible file for file).
package func sortedJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

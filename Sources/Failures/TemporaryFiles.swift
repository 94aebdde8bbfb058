import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every temporary output file of the process, so a second Ctrl-C (or SIGTERM) can remove them all
/// before exiting at once: no `.partial` debris after any number of signals.
///
/// Creating, committing (rename onto the final name) and discarding a file all happen under one lock,
/// and `removeAllAndExit` exits while holding it, so a file created concurrently with the cleanup is
/// either registered in time or never created.
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: Set<String> = []

    /// A fresh hidden name in `destination`'s folder for its temporary file
    /// (`out/clip.mp4` → `out/.clip.partial-1a2b3c4d.mp4`); same folder, so the final rename is atomic.
    public static func path(beside destination: String) -> String {
        let url = URL(fileURLWithPath: destination)
        let ext = url.pathExtension
        let stem = url.deletingPathExtension().lastPathComponent
        let tag = UUID().uuidString.prefix(8).lowercased()
        return url.deletingLastPathComponent().appendingPathComponent(".\(stem).partial-\(tag)" + (ext.isEmpty ? "" : ".\(ext)")).path
    }

    /// Writes `bytes` to a temporary file beside `destination` and renames it into place; returns
    /// the reason on failure (`destination` is then untouched), nil on success.
    public static func writeAtomically(_ bytes: UnsafeRawBufferPointer, to destination: String) -> String? {
        let temporary = path(beside: destination)
        var fd: Int32 = -1
        fd = create(temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let reason = String(cString: strerror(n < 0 ? errno : ENOSPC))
                close(fd)
                discard(temporary)
                return reason
            }
            offset += n
        }
        if close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            discard(temporary)
            return reason
        }
        let code = commit(temporary, to: destination)
        return code == 0 ? nil : String(cString: strerror(code))
    }

    /// Runs `create` (which makes the file at `path`) with `path` registered for removal.
    public static func create<T>(_ path: String, _ create: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        paths.insert(path)
        do { return try create() } catch {
            paths.remove(path)
            unlink(path)
            throw error
        }
    }

    /// Renames a finished temporary file onto `destination`; returns errno on failure (the file is
    /// then removed), 0 on success.
    public static func commit(_ path: String, to destination: String) -> Int32 {
        lock.lock(); defer { lock.unlock() }
        paths.remove(path)
        if rename(path, destination) == 0 { return 0 }
        let code = errno
        unlink(path)
        return code
    }

    /// Removes a temporary file that will not be finished.
    public static func discard(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        paths.remove(path)
        unlink(path)
    }

    /// The temporary files that exist now (tests).
    public static var registered: [String] { lock.lock(); defer { lock.unlock() }; return paths.sorted() }

    /// Removes every registered temporary file and exits with `code`, without returning.
    public static func removeAllAndExit(_ code: Int32) -> Never {
        lock.lock()
        for path in paths { unlink(path) }
        _exit(code)
    }
}

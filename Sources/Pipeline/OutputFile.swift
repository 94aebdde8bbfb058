import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A byte sink for the text outputs: stdout ("-") or a file. Atomic files are written as
/// `.NAME.partial` beside the target and renamed into place by `commit()`, so a failed run never
/// leaves a half-written JSON document under the requested name; streams (JSON Lines) write the
/// file itself so `tail -f` follows them. Writes are unbuffered `write(2)` calls, so every line is
/// out when written, and a closed reader (EPIPE) throws `OutputClosed`.
final class OutputFile {
    let path: String
    private let fd: Int32
    private let partialPath: String?
    private var closed = false

    init(path: String, atomic: Bool) throws {
        self.path = path
        if path == "-" {
            fd = STDOUT_FILENO
            partialPath = nil
            return
        }
        let url = URL(fileURLWithPath: path)
        let partial = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".partial").path
        let opened = open(atomic ? partial : path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard opened >= 0 else {
            throw PipelineError.badInput("\(path): cannot write: \(String(cString: strerror(errno)))")
        }
        fd = opened
        partialPath = atomic ? partial : nil
    }

    /// Writes all of `text`.
    func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE { throw OutputClosed(path: path == "-" ? "stdout" : path) }
                    throw PipelineError.badInput("\(path): write failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    /// Closes the file and moves an atomic file to its final name.
    func commit() throws {
        guard !closed else { return }
        closed = true
        if fd != STDOUT_FILENO { close(fd) }
        guard let partialPath else { return }
        guard rename(partialPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partialPath)
            throw PipelineError.badInput("\(path): cannot move the finished file into place: \(reason)")
        }
    }

    /// Closes and deletes an atomic file's partial file (streams keep what they wrote).
    func discard() {
        guard !closed else { return }
        closed = true
        if fd != STDOUT_FILENO { close(fd) }
        if let partialPath { unlink(partialPath) }
    }
}

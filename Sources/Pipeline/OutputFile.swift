import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A byte sink for the text outputs: stdout ("-") or a file. Files are written as `.NAME.partial`
/// beside the target and renamed into place by `commit()`, so an interrupted or failed run never
/// leaves a half-written file under the requested name. Stdout writes go straight to fd 1 (no
/// buffering, so every line is out when written) and a closed reader (EPIPE) throws `OutputClosed`.
final class OutputFile {
    let path: String
    private let fd: Int32
    private let partialPath: String?
    private var closed = false

    var isStdout: Bool { partialPath == nil }

    init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = STDOUT_FILENO
            partialPath = nil
            return
        }
        let url = URL(fileURLWithPath: path)
        let partial = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".partial").path
        let opened = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard opened >= 0 else {
            throw PipelineError.badInput("\(path): cannot write: \(String(cString: strerror(errno)))")
        }
        fd = opened
        partialPath = partial
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

    /// Closes the file and moves it to its final name.
    func commit() throws {
        guard !closed else { return }
        closed = true
        guard let partialPath else { return }
        if fsync(fd) != 0 && errno != EINVAL {}   // best effort; rename below is what matters
        close(fd)
        guard rename(partialPath, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partialPath)
            throw PipelineError.badInput("\(path): cannot move the finished file into place: \(reason)")
        }
    }

    /// Closes and deletes the partial file (stdout is left alone).
    func discard() {
        guard !closed else { return }
        closed = true
        guard let partialPath else { return }
        close(fd)
        unlink(partialPath)
    }
}

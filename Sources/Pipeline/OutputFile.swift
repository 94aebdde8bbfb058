import Failures
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A byte sink for the text outputs: stdout ("-") or a file. Atomic files are written to a hidden
/// temporary file beside the target (`TemporaryFiles`) and renamed into place by `commit()`, so a
/// failed or stopped run never leaves a half-written JSON document under the requested name and never
/// touches an existing file there; streams (JSON Lines) write the file itself so `tail -f` follows
/// them. Writes are unbuffered `write(2)` calls, so every line is out when written; a closed reader
/// (EPIPE) throws `OutputClosed`; a full disk or an I/O error throws `outputNotWritten`.
final class OutputFile {
    let path: String
    private let fd: Int32
    private let temporaryPath: String?
    private var closed = false

    init(path: String, atomic: Bool) throws {
        self.path = path
        if path == "-" {
            fd = STDOUT_FILENO
            temporaryPath = nil
            return
        }
        var opened: Int32 = -1
        if atomic {
            let temporary = TemporaryFiles.path(beside: path)
            opened = TemporaryFiles.create(temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
            temporaryPath = temporary
        } else {
            opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            temporaryPath = nil
        }
        guard opened >= 0 else {
            let reason = String(cString: strerror(errno))
            if let temporaryPath { TemporaryFiles.discard(temporaryPath) }
            throw PipelineError.outputNotWritten("\(path): cannot write: \(reason)")
        }
        fd = opened
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
                    throw PipelineError.outputNotWritten("\(path == "-" ? "stdout" : path): write failed: \(String(cString: strerror(errno)))"
                                                         + (temporaryPath != nil ? " (the file was not written)" : ""))
                }
                offset += n
            }
        }
    }

    /// Closes the file and moves an atomic file to its final name.
    func commit() throws {
        guard !closed else { return }
        closed = true
        if fd != STDOUT_FILENO {
            if close(fd) != 0, let temporaryPath {
                let reason = String(cString: strerror(errno))
                TemporaryFiles.discard(temporaryPath)
                throw PipelineError.outputNotWritten("\(path): write failed: \(reason) (the file was not written)")
            }
        }
        guard let temporaryPath else { return }
        let code = TemporaryFiles.commit(temporaryPath, to: path)
        guard code == 0 else {
            throw PipelineError.outputNotWritten("\(path): cannot move the finished file into place: \(String(cString: strerror(code)))")
        }
    }

    /// Closes and deletes an atomic file's temporary file (streams keep what they wrote).
    func discard() {
        guard !closed else { return }
        closed = true
        if fd != STDOUT_FILENO { close(fd) }
        if let temporaryPath { TemporaryFiles.discard(temporaryPath) }
    }
}

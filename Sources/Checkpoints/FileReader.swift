// Positional reads from an open file (pread): storages go straight into their destination buffers.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only file descriptor with bounds-checked positional reads; thread-safe (pread only).
final class FileReader {
    let path: String
    let size: Int
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        var info = stat()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw FormatError("cannot open (\(reason))")
        }
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw FormatError("not a regular file")
        }
        self.fd = fd
        self.size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// Fills `buffer` from `offset`; fails if the file ends first.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard offset >= 0, buffer.count <= size, offset <= size - buffer.count else {
            throw FormatError("read of \(buffer.count) bytes at \(offset) runs past the end of the file (\(size) bytes)")
        }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FormatError("read failed (\(String(cString: strerror(errno))))")
            }
            if n == 0 { throw FormatError("file ended early at byte \(offset + done)") }
            done += n
        }
    }

    /// `count` bytes from `offset` as an array.
    func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        guard count >= 0, count <= size else { throw FormatError("read of \(count) bytes is larger than the file") }
        var out = [UInt8](repeating: 0, count: count)
        if count > 0 { try out.withUnsafeMutableBytes { try read(into: $0, at: offset) } }
        return out
    }
}

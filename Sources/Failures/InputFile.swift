import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading a whole input file with the reason in plain words when it fails ("no such file or
/// directory", "is a folder", "permission denied"), rather than Foundation's "The operation could
/// not be completed".
public enum InputFile {
    /// Why an input file could not be read.
    public struct Problem: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// The file's bytes.
    public static func read(_ path: String) throws(Problem) -> Data {
        var status = stat()
        guard stat(path, &status) == 0 else { throw Problem(reason: String(cString: strerror(errno))) }
        if status.st_mode & S_IFMT == S_IFDIR { throw Problem(reason: "is a folder, not a file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Problem(reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Problem(reason: String(cString: strerror(errno))) }
            if n == 0 { return data }
            data.append(buffer, count: n)
        }
    }

    /// The file as UTF-8 text.
    public static func text(_ path: String) throws(Problem) -> String {
        let data = try read(path)
        guard let text = String(data: data, encoding: .utf8) else { throw Problem(reason: "is not UTF-8 text") }
        return text
    }
}

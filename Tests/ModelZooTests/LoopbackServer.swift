import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 for download tests: GET of the files it was given, `Range:
/// bytes=N-` answered with 206 (or 416 past the end), one connection at a time, closed after each
/// response, and 302 redirects. A file can be served truncated once (the connection closes early, as a dropped
/// download does), and ranges can be ignored (200 with the whole file, as some servers do).
final class LoopbackServer: @unchecked Sendable {
    struct Request { let path: String; let range: String? }

    private let lock = NSLock()
    private var files: [String: Data] = [:]
    private var truncateOnce: [String: Int] = [:]
    private var ignoreRanges = false
    private var redirects: [String: String] = [:]
    private var log: [Request] = []
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// The server's root URL.
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Serves `data` at `/name`; the first response for it stops after `truncatedAfter` body bytes.
    func serve(_ name: String, _ data: Data, truncatedAfter: Int? = nil) {
        lock.lock(); defer { lock.unlock() }
        files["/" + name] = data
        truncateOnce["/" + name] = truncatedAfter
    }

    /// Answers `/name` with a 302 redirect to `/target` (as GitHub release downloads are).
    func redirect(_ name: String, to target: String) {
        lock.lock(); defer { lock.unlock() }
        redirects["/" + name] = "/" + target
    }

    /// Answers every request with the whole file (status 200), ignoring `Range`.
    func ignoreRangeHeaders() { lock.lock(); ignoreRanges = true; lock.unlock() }

    /// The requests received so far.
    var requests: [Request] { lock.lock(); defer { lock.unlock() }; return log }

    /// Stops listening: later connections are refused.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        done.wait()
    }

    private func acceptLoop() {
        defer { done.signal() }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var head = Data()
        var byte = [UInt8](repeating: 0, count: 4096)
        while !head.ends(with: "\r\n\r\n") {
            let n = read(client, &byte, byte.count)
            if n <= 0 { return }
            head.append(contentsOf: byte[0..<n])
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, parts[0] == "GET" else { return respond(client, status: "405 Method Not Allowed", headers: [], body: Data()) }
        let path = String(parts[1])
        let range = lines.dropFirst().first { $0.lowercased().hasPrefix("range:") }
            .map { $0.dropFirst("range:".count).trimmingCharacters(in: .whitespaces) }
        lock.lock()
        log.append(Request(path: path, range: range))
        let data = files[path]
        let truncate = truncateOnce.removeValue(forKey: path)
        let ignore = ignoreRanges
        let target = redirects[path]
        lock.unlock()
        if let target {
            return respond(client, status: "302 Found", headers: ["Location: \(baseURL.absoluteString)\(target)"], body: Data())
        }
        guard let data else { return respond(client, status: "404 Not Found", headers: [], body: Data("no such file\n".utf8)) }
        if let range, !ignore, range.hasPrefix("bytes="), let first = Int(range.dropFirst(6).split(separator: "-")[0]) {
            guard first < data.count else {
                return respond(client, status: "416 Range Not Satisfiable", headers: ["Content-Range: bytes */\(data.count)"], body: Data())
            }
            return respond(client, status: "206 Partial Content", headers: ["Content-Range: bytes \(first)-\(data.count - 1)/\(data.count)"],
                        body: data.subdata(in: first..<data.count), stopAfter: truncate)
        }
        respond(client, status: "200 OK", headers: [], body: data, stopAfter: truncate)
    }

    /// Writes a response; with `stopAfter`, only that many body bytes (Content-Length still the full count).
    private func respond(_ client: Int32, status: String, headers: [String], body: Data, stopAfter: Int? = nil) {
        let head = (["HTTP/1.1 \(status)", "Content-Length: \(body.count)", "Connection: close",
                     "Content-Type: application/octet-stream"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
        var bytes = Data(head.utf8)
        bytes.append(body.prefix(stopAfter ?? body.count))
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(client, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

private extension Data {
    func ends(with text: String) -> Bool { count >= text.utf8.count && suffix(text.utf8.count).elementsEqual(text.utf8) }
}

import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP(S) GET appended to a partial file: resumes from the file's length with a `Range`
/// request, starts over when the server ignores the range, and writes each piece as it arrives, so
/// a broken connection leaves what came for the next try.
final class HTTPFetch: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// Why the transfer did not complete, in words.
    struct Failure: Error { let reason: String }

    /// Bytes in the file so far and the full length when the server said it.
    typealias Progress = (_ bytes: Int64, _ total: Int64?) -> Void

    private let fd: Int32
    private let path: String
    private let progress: Progress
    private var bytes: Int64
    private var total: Int64?
    private var failure: String?
    private var transportError: String?
    private var alreadyComplete = false
    private let finished = DispatchSemaphore(value: 0)

    private init(fd: Int32, path: String, bytes: Int64, progress: @escaping Progress) {
        (self.fd, self.path, self.bytes, self.progress) = (fd, path, bytes, progress)
    }

    /// Fetches `url` into `path` (created or continued); returns the file's final length.
    static func fetch(_ url: URL, into path: String, idleTimeout: TimeInterval = 60, progress: @escaping Progress) throws(Failure) -> Int64 {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(reason: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let start = lseek(fd, 0, SEEK_END)
        let fetch = HTTPFetch(fd: fd, path: path, bytes: Int64(start), progress: progress)
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: idleTimeout)
        if start > 0 { request.setValue("bytes=\(start)-", forHTTPHeaderField: "Range") }
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: .ephemeral, delegate: fetch, delegateQueue: queue)
        session.dataTask(with: request).resume()
        fetch.finished.wait()
        session.finishTasksAndInvalidate()
        return try fetch.outcome()
    }

    private func outcome() throws(Failure) -> Int64 {
        if alreadyComplete { return bytes }
        if let failure { throw Failure(reason: failure) }
        if let total, bytes != total {
            throw Failure(reason: "the connection closed after \(bytes) of \(total) bytes" + (transportError.map { " (\($0))" } ?? ""))
        }
        if let transportError { throw Failure(reason: transportError) }
        return bytes
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            failure = "not an HTTP response"
            return completionHandler(.cancel)
        }
        let range = (http.value(forHTTPHeaderField: "Content-Range")).flatMap(Self.contentRange)
        switch http.statusCode {
        case 206:
            guard let range, range.first == bytes else {
                failure = "the server resumed at the wrong place (Content-Range \(http.value(forHTTPHeaderField: "Content-Range") ?? "missing"))"
                return completionHandler(.cancel)
            }
            total = range.total
        case 200:
            // The whole file: a fresh download, or a server that ignores ranges.
            if bytes > 0 {
                guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                    failure = "cannot write \(path): \(String(cString: strerror(errno)))"
                    return completionHandler(.cancel)
                }
                bytes = 0
            }
            total = http.expectedContentLength >= 0 ? http.expectedContentLength : nil
        case 416 where range?.total == bytes:
            // The partial file already holds every byte (a run stopped after the last piece).
            alreadyComplete = true
            return completionHandler(.cancel)
        case 416:
            // A partial file longer than the file now published: start over next time.
            _ = ftruncate(fd, 0)
            failure = "the server refused to resume (HTTP 416); the partial download was discarded"
            return completionHandler(.cancel)
        default:
            failure = "HTTP \(http.statusCode) \(HTTPURLResponse.localizedString(forStatusCode: http.statusCode))"
            return completionHandler(.cancel)
        }
        progress(bytes, total)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard ok else {
            failure = "cannot write \(path): \(String(cString: strerror(errno)))"
            return dataTask.cancel()
        }
        bytes += Int64(data.count)
        progress(bytes, total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil, !alreadyComplete { transportError = error.localizedDescription }
        finished.signal()
    }

    /// `bytes FIRST-LAST/TOTAL` (or `bytes */TOTAL`): the first byte and the total, when given.
    static func contentRange(_ value: String) -> (first: Int64?, total: Int64?)? {
        guard value.hasPrefix("bytes ") else { return nil }
        let parts = value.dropFirst(6).split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let first = parts[0] == "*" ? nil : parts[0].split(separator: "-").first.flatMap { Int64($0) }
        return (first, Int64(parts[1]))
    }
}

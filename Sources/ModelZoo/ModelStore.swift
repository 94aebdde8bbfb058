import Failures
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where named models live on this machine and how they get there: downloads go to the user cache
/// (`$XDG_CACHE_HOME/posewarper`, else `~/.cache/posewarper`) under their published names, through
/// `NAME.partial` (kept for resuming after a failure or Ctrl-C) and are renamed into place only
/// after their hash checks out; bundled models and pipeline files are found in the repository.
public struct ModelStore: Sendable {
    /// The cache folder.
    public let cacheFolder: String
    /// A mirror serving the files under their published names (`POSEWARPER_MODEL_BASE_URL`).
    public let mirror: URL?
    /// Folders searched for bundled models and pipeline files, first match wins.
    public let dataFolders: [String]

    public init(cacheFolder: String, mirror: URL? = nil, dataFolders: [String] = ModelStore.defaultDataFolders) {
        (self.cacheFolder, self.mirror, self.dataFolders) = (cacheFolder, mirror, dataFolders)
    }

    /// The store the environment describes: XDG_CACHE_HOME (else HOME/.cache) and POSEWARPER_MODEL_BASE_URL.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let cacheHome = environment["XDG_CACHE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache")
        let mirror = environment["POSEWARPER_MODEL_BASE_URL"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
        self.init(cacheFolder: cacheHome + "/posewarper", mirror: mirror)
    }

    /// An installed binary's `PREFIX/share/posewarper`, then the source tree it was built from.
    public static var defaultDataFolders: [String] {
        var folders: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append(URL(fileURLWithPath: exe).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("share/posewarper").path)
        }
        // Sources/ModelZoo/ModelStore.swift → the repository root.
        folders.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path)
        return folders
    }

    /// Where the entry's file is downloaded from (the mirror, when set, under the published name).
    public func url(of entry: ModelEntry) -> URL? {
        guard case .download(let url) = entry.source else { return nil }
        return mirror?.appendingPathComponent(url.lastPathComponent) ?? url
    }

    /// Where the entry's file is, or would be once downloaded.
    public func path(of entry: ModelEntry) -> String {
        switch entry.source {
        case .download: return cacheFolder + "/" + entry.fileName
        case .bundled(let relative): return dataFile(relative) ?? (dataFolders.last ?? ".") + "/" + relative
        }
    }

    /// True when the entry's file is on this machine.
    public func isPresent(_ entry: ModelEntry) -> Bool { FileManager.default.fileExists(atPath: path(of: entry)) }

    /// The entry's pipeline file, if it has one and it is installed.
    public func pipelinePath(of entry: ModelEntry) -> String? { entry.pipeline.flatMap(dataFile) }

    private func dataFile(_ relative: String) -> String? {
        dataFolders.map { $0 + "/" + relative }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// A download in progress: which entry, from where, to where, and the bytes so far.
    public struct DownloadEvent: Sendable {
        public enum Stage: Sendable { case started, progress, verified }
        public let stage: Stage
        public let url: URL
        public let path: String
        public let bytes: Int64
        public let total: Int64?
    }

    /// The entry's local file, downloaded and verified first when it is not cached. Processes that
    /// want the same file wait for one another (a lock file beside it), so a job array that starts
    /// at once downloads it once.
    public func resolve(_ entry: ModelEntry, events: @escaping (DownloadEvent) -> Void = { _ in }) throws -> String {
        let destination = path(of: entry)
        guard let url = url(of: entry) else {
            guard FileManager.default.fileExists(atPath: destination) else {
                throw ModelZooError.bundledMissing(entry, looked: dataFolders)
            }
            return destination
        }
        if FileManager.default.fileExists(atPath: destination) { return destination }
        do {
            try FileManager.default.createDirectory(atPath: cacheFolder, withIntermediateDirectories: true)
        } catch {
            throw ModelZooError.cacheNotWritable(cacheFolder, reason: (error as NSError).localizedDescription)
        }
        let lock = open(destination + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw ModelZooError.cacheNotWritable(cacheFolder, reason: String(cString: strerror(errno))) }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(lock, LOCK_UN) }
        if FileManager.default.fileExists(atPath: destination) { return destination }

        // Not a `TemporaryFiles` file: a signal must leave it in place, as the next try resumes it.
        let partial = destination + ".partial"
        events(DownloadEvent(stage: .started, url: url, path: destination, bytes: 0, total: nil))
        let length: Int64
        do {
            length = try HTTPFetch.fetch(url, into: partial) { bytes, total in
                events(DownloadEvent(stage: .progress, url: url, path: destination, bytes: bytes, total: total))
            }
        } catch {
            // Keep what arrived for the next try; an empty file is no progress.
            var status = stat()
            let kept = stat(partial, &status) == 0 && status.st_size > 0
            if !kept { unlink(partial) }
            throw ModelZooError.downloadFailed(entry, url: url.absoluteString, path: destination, reason: error.reason, resumable: kept)
        }
        if let expected = entry.sha256Prefix {
            let actual: String
            do { actual = try SHA256.hex(ofFile: partial) } catch {
                throw ModelZooError.downloadFailed(entry, url: url.absoluteString, path: destination, reason: "cannot read \(partial): \(error.reason)")
            }
            guard actual.hasPrefix(expected) else {
                unlink(partial)
                throw ModelZooError.hashMismatch(entry, url: url.absoluteString, expected: expected, actual: actual)
            }
        }
        guard rename(partial, destination) == 0 else {
            throw ModelZooError.cacheNotWritable(cacheFolder, reason: "cannot rename \(partial): \(String(cString: strerror(errno)))")
        }
        events(DownloadEvent(stage: .verified, url: url, path: destination, bytes: length, total: length))
        return destination
    }
}

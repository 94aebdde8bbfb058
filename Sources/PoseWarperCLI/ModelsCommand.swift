import ArgumentParser
import Failures
import Foundation
import ModelZoo
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// `posewarper models`: the models known by name, whether each is on this machine and where;
/// `--download NAME…` fetches them ahead of time (an air-gapped machine's cache can then be copied).
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the models known by name (run/detect --model NAME) and where each is cached.",
        discussion: """
        Official checkpoints are downloaded on first use into $XDG_CACHE_HOME/posewarper (else \
        ~/.cache/posewarper) under their published file names, resumed after an interruption, and \
        kept only when their SHA-256 matches the prefix in the file name. POSEWARPER_MODEL_BASE_URL \
        names a mirror serving the files under those names. Exit codes: 0 ok, 2 a download failed \
        or was refused, 64 bad command line.
        """)

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Download these models now (names as listed).", valueName: "name"))
    var download: [String] = []

    @Flag(help: "One JSON array: name, family, task, detail, url, sha256_prefix, pipeline, path, present, bytes.")
    var json = false

    @Flag(help: "No progress or summary on stderr.")
    var quiet = false

    func validate() throws {
        for name in download { _ = try NamedModels.entry(name, flag: "--download", tasks: nil) }
    }

    func run() throws {
        let store = ModelStore()
        if !download.isEmpty {
            for name in download {
                do {
                    let path = try NamedModels.resolve(ModelRegistry.named(name)!, store: store, command: "models", quiet: quiet)
                    print(path)
                } catch {
                    NamedModels.note("models", "\(error)")
                    throw ExitCode(ExitStatus.code(for: error))
                }
            }
            return
        }
        json ? printJSON(store) : printTable(store)
    }

    private func localBytes(_ path: String) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size].flatMap { ($0 as? NSNumber)?.int64Value }
    }

    private func printTable(_ store: ModelStore) {
        var rows = [["NAME", "TASK", "FAMILY", "DATA", "STATUS", "SIZE", "PATH"]]
        for entry in ModelRegistry.all {
            let path = store.path(of: entry)
            var status: String, size = "-"
            if let bytes = localBytes(path) {
                status = store.url(of: entry) == nil ? "bundled" : "cached"
                size = String(format: "%.1f MB", Double(bytes) / 1e6)
            } else if store.url(of: entry) == nil {
                status = "missing"
            } else if let partial = localBytes(path + ".partial") {
                status = "partial"
                size = String(format: "%.1f MB", Double(partial) / 1e6)
            } else {
                status = "not cached"
            }
            rows.append([entry.name, entry.task.rawValue, entry.family, entry.detail, status, size, path])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            print(row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
        var footer = "cache: \(store.cacheFolder)"
        if let mirror = store.mirror { footer += "; mirror (POSEWARPER_MODEL_BASE_URL): \(mirror.absoluteString)" }
        print("\n" + footer + "\nrun/detect --model NAME downloads a model on first use; --download NAME fetches it now.")
    }

    private func printJSON(_ store: ModelStore) {
        let list: [[String: Any]] = ModelRegistry.all.map { entry in
            let path = store.path(of: entry)
            let bytes = localBytes(path)
            return ["name": entry.name, "family": entry.family, "task": entry.task.rawValue, "detail": entry.detail,
                    "url": store.url(of: entry)?.absoluteString ?? NSNull(), "sha256_prefix": entry.sha256Prefix ?? NSNull(),
                    "pipeline": store.pipelinePath(of: entry) ?? NSNull(), "path": path, "present": bytes != nil,
                    "bytes": bytes.map { NSNumber(value: $0) } ?? NSNull()]
        }
        let data = try! JSONSerialization.data(withJSONObject: list, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// `--model NAME` for `run`, `detect` and `propagate`, and `run --detector NAME`: the registry entry, its file
/// (downloaded with a progress line on a terminal) and its pipeline file.
enum NamedModels {
    static func note(_ command: String, _ message: String) {
        FileHandle.standardError.write(Data("posewarper \(command): \(message)\n".utf8))
    }

    /// The entry called `name`, for `flag`; a usage error (64) naming the known ones otherwise.
    static func entry(_ name: String, flag: String, tasks: Set<ModelEntry.Task>?) throws -> ModelEntry {
        let wanted = tasks ?? [.pose, .videoPose, .detection]
        guard let entry = ModelRegistry.named(name) else {
            throw ValidationError("\(flag) \(name): no such model (\(ModelRegistry.names(for: wanted)); `posewarper models` lists them)")
        }
        guard wanted.contains(entry.task) else {
            var message = "\(flag) \(name) is a \(entry.task.rawValue) model; this takes \(ModelRegistry.names(for: wanted))"
            if entry.task == .detection && wanted.contains(.pose) { message += "; give a detector as --detector \(name)" }
            if entry.task != .detection && wanted == [.detection] { message += "; pose models run with posewarper run --model \(name)" }
            throw ValidationError(message)
        }
        return entry
    }

    /// The entry's local file (downloaded and verified first if needed) and its pipeline file.
    static func resolve(_ name: String, command: String, quiet: Bool) throws -> (weights: String, pipeline: String?) {
        let store = ModelStore()
        let entry = ModelRegistry.named(name)!
        return (try resolve(entry, store: store, command: command, quiet: quiet), store.pipelinePath(of: entry))
    }

    /// A pose model's settings: its pipeline file (or the checkpoint's defaults without one) with
    /// `model.weights` the local file.
    static func poseConfig(_ name: String, command: String, quiet: Bool) throws -> PipelineConfig {
        let named = try resolve(name, command: command, quiet: quiet)
        var config = try named.pipeline.map { try PipelineFile.load($0) } ?? PoseJob.defaultConfig(forWeights: named.weights)
        config.model.weights = named.weights
        return config
    }

    /// The entry's local file, downloaded and verified first if needed.
    static func resolve(_ entry: ModelEntry, store: ModelStore, command: String, quiet: Bool) throws -> String {
        let reporter = DownloadReporter(command: command, entry: entry, quiet: quiet)
        defer { reporter.finish() }
        return try store.resolve(entry, events: reporter.handle)
    }

    /// `run --detector VALUE`: an existing file is that file, with the pose pipeline's
    /// persons.detector settings; otherwise a detector's name resolves to its downloaded (or bundled)
    /// file and takes its own pipeline file's settings when it has one (its training resolution,
    /// thresholds), else the pose pipeline's; anything else stays a path (and fails as a missing file does).
    static func detector(_ value: String, poseSection: DetectorSection, command: String, quiet: Bool) throws
        -> (weights: String, section: DetectorSection) {
        guard !FileManager.default.fileExists(atPath: value), let entry = ModelRegistry.named(value), entry.task == .detection else {
            return (value, poseSection)
        }
        let store = ModelStore()
        let weights = try resolve(entry, store: store, command: command, quiet: quiet)
        guard let pipeline = store.pipelinePath(of: entry) else { return (weights, poseSection) }
        return (weights, try DetectorSection.load(pipeline: pipeline))
    }
}

/// A download's lines on stderr: where from and to, a progress line rewritten in place when stderr
/// is a terminal, and the verification.
private final class DownloadReporter {
    let command: String, entry: ModelEntry, quiet: Bool
    private let terminal = isatty(STDERR_FILENO) == 1
    private var started = Date(), lastShown = -1.0, lineOpen = false

    init(command: String, entry: ModelEntry, quiet: Bool) { (self.command, self.entry, self.quiet) = (command, entry, quiet) }

    func handle(_ event: ModelStore.DownloadEvent) {
        guard !quiet else { return }
        switch event.stage {
        case .started:
            started = Date()
            NamedModels.note(command, "downloading \(entry.name) from \(event.url.absoluteString) to \(event.path)")
        case .progress:
            let now = Date().timeIntervalSince(started)
            guard terminal, now - lastShown >= 0.25 || event.bytes == event.total else { return }
            lastShown = now
            var text = String(format: "%.1f", Double(event.bytes) / 1e6)
            if let total = event.total, total > 0 {
                text += String(format: " / %.1f MB  %3d%%", Double(total) / 1e6, Int(100 * event.bytes / total))
            } else { text += " MB" }
            if now > 0 { text += String(format: "  %.1f MB/s", Double(event.bytes) / 1e6 / now) }
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            lineOpen = true
        case .verified:
            finish()
            let check = entry.sha256Prefix.map { "SHA-256 \($0)… verified" }
                ?? "complete (its published name carries no hash to verify)"
            NamedModels.note(command, String(format: "%@: %.1f MB, %@; cached", entry.name, Double(event.bytes) / 1e6, check))
        }
    }

    func finish() {
        if lineOpen { FileHandle.standardError.write(Data("\n".utf8)); lineOpen = false }
    }
}

import Foundation
import Keypoints
#if canImport(Glibc)
import Glibc
#endif

/// Every output path of a command, checked before any work starts: each is not one of the
/// command's inputs, not another output, in a folder that exists and is writable, not a folder
/// itself, and in a format that can be written (a video container from the extension; a PoseTrack
/// file only for a PoseTrack18 model). Outputs are then written through temporary files and renamed
/// on success (`OutputFile`, `VideoWriter`), so a rejected or failed command leaves every existing
/// file as it was, except a keypoint stream file, which is written live.
public struct OutputPlan {
    /// What an output holds, which decides what it may be.
    public enum Format: Sendable {
        case keypointStream, cocoResults, poseTrack, video, array
    }

    /// One output: the flag that named it (for messages), its path and its format.
    public struct Output: Sendable {
        public var flag: String
        public var path: String
        public var format: Format
        public init(flag: String, path: String, format: Format) {
            self.flag = flag
            self.path = path
            self.format = format
        }
    }

    /// Video containers `VideoWriter` can write, by extension.
    public static let videoExtensions = ["mp4", "m4v", "mov", "mkv"]

    /// Checks every output against the others and against `inputs` (files the command reads; URLs and
    /// "-" are skipped); `schema` is the model's, when the command runs one.
    public static func check(_ outputs: [Output], inputs: [String], schema: KeypointSchema? = nil) throws {
        let inputIdentities = inputs.map { $0.hasPrefix("file:") && !$0.hasPrefix("file://") ? String($0.dropFirst(5)) : $0 }
            .filter { $0 != "-" && !$0.contains("://") }.compactMap { p in identity(p).map { (p, $0) } }
        var seen: [(Output, String)] = []
        for output in outputs {
            let path = output.path
            if path == "-" {
                guard output.format == .keypointStream else {
                    throw PipelineError.outputNotWritten("\(output.flag) -: only the keypoint stream can go to stdout")
                }
                continue
            }
            guard !path.isEmpty else { throw PipelineError.outputNotWritten("\(output.flag): the path is empty") }
            let resolved = resolvedPath(path)
            if let existing = identity(path) {
                if let (input, _) = inputIdentities.first(where: { $0.1 == existing }) {
                    throw PipelineError.outputNotWritten("\(path): the output (\(output.flag)) would replace the input \(input); choose another path")
                }
                if existing.isFolder { throw PipelineError.outputNotWritten("\(path): is a folder; \(output.flag) needs a file name") }
            }
            if let (other, _) = seen.first(where: { $0.1 == resolved }) {
                throw PipelineError.outputNotWritten("\(path): \(output.flag) and \(other.flag) name the same file")
            }
            let folder = (resolved as NSString).deletingLastPathComponent
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw PipelineError.outputNotWritten("\(path): folder \(folder) does not exist")
            }
            guard access(folder, W_OK | X_OK) == 0 else {
                throw PipelineError.outputNotWritten("\(path): folder \(folder) is not writable (\(String(cString: strerror(errno))))")
            }
            switch output.format {
            case .video:
                let ext = (path as NSString).pathExtension.lowercased()
                guard videoExtensions.contains(ext) else {
                    throw PipelineError.outputNotWritten("\(path): cannot choose a container from the extension '\(ext)' (use .mp4, .mkv or .mov)")
                }
            case .poseTrack:
                if let schema, schema != .posetrack18 { throw poseTrackSchemaMismatch(path, schema: schema) }
            case .keypointStream, .cocoResults, .array:
                break
            }
            seen.append((output, resolved))
        }
    }

    /// The error for a PoseTrack18 file requested from a model with other keypoints.
    static func poseTrackSchemaMismatch(_ path: String, schema: KeypointSchema) -> PipelineError {
        .badInput("\(path): a PoseTrack18 file needs a PoseTrack18 model, but this model's keypoints are \(schema.name); use --coco or --keypoints")
    }

    /// The path with its folder's symbolic links resolved (the file itself need not exist).
    static func resolvedPath(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let folder = url.deletingLastPathComponent().resolvingSymlinksInPath().path
        return (folder as NSString).appendingPathComponent(url.lastPathComponent)
    }

    /// Device and inode of an existing file (after symbolic links), so hard and symbolic links to an
    /// input are recognised as that input.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var isFolder: Bool
    }

    static func identity(_ path: String) -> Identity? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return Identity(device: UInt64(s.st_dev), inode: UInt64(s.st_ino), isFolder: s.st_mode & S_IFMT == S_IFDIR)
    }
}

extension OutputPlan {
    /// Checks a `PoseJob` run's outputs (custom outputs are the caller's).
    public static func check(_ outputs: [PoseJob.Output], inputs: [String], schema: KeypointSchema?) throws {
        let planned: [Output] = outputs.compactMap {
            switch $0 {
            case let .keypoints(p): return Output(flag: "--keypoints", path: p, format: .keypointStream)
            case let .coco(p): return Output(flag: "--coco", path: p, format: .cocoResults)
            case let .posetrack(p): return Output(flag: "--posetrack", path: p, format: .poseTrack)
            case let .video(p): return Output(flag: "--video", path: p, format: .video)
            case .custom: return nil
            }
        }
        try check(planned, inputs: inputs, schema: schema)
    }
}

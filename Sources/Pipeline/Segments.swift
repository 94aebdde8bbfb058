import Foundation
import Keypoints
import Video

/// The i-th of n parts of a video (`--segment i/n`): half-open frame ranges that together cover
/// every frame exactly once, so n processes (a Slurm array, a Kubernetes Indexed Job) can each take
/// one and `posewarper merge` can join their outputs.
public struct FrameSegment: Sendable, Equatable {
    /// 0-based segment number, below `count`.
    public let index: Int
    public let count: Int

    /// Environment variables that give a task its segment number, in the order they are read:
    /// Slurm job arrays, Kubernetes Indexed Jobs, and one to set by hand.
    public static let indexVariables = ["POSEWARPER_SEGMENT", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw PipelineError.badInput("--segment: the number of segments must be at least 1, got \(count)") }
        guard (0..<count).contains(index) else {
            throw PipelineError.badInput("--segment: the segment number must be within 0…\(count - 1) for \(count) segments, got \(index)")
        }
        self.index = index
        self.count = count
    }

    /// Parses "i/n" (0 ≤ i < n) or "auto/n", where i comes from the first of `indexVariables` set in
    /// `environment`. A Slurm array must then be numbered from 0 (`--array=0-(n-1)`).
    public static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> FrameSegment {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[1]) else {
            throw PipelineError.badInput("--segment \(text): expected i/n (e.g. 0/4, the first of 4 parts) or auto/n")
        }
        if parts[0] == "auto" {
            guard let (name, value) = indexVariables.lazy.compactMap({ v in environment[v].map { (v, $0) } }).first else {
                throw PipelineError.badInput("--segment auto/\(count): none of \(indexVariables.joined(separator: ", ")) is set")
            }
            guard let index = Int(value.trimmingCharacters(in: .whitespaces)) else {
                throw PipelineError.badInput("--segment auto/\(count): \(name)=\(value) is not a whole number")
            }
            do { return try FrameSegment(index: index, count: count) } catch {
                throw PipelineError.badInput("--segment auto/\(count): \(name)=\(value) is not within 0…\(count - 1)"
                                             + (name == "SLURM_ARRAY_TASK_ID" ? " (number the array from 0: --array=0-\(count - 1))" : ""))
            }
        }
        guard let index = Int(parts[0]) else {
            throw PipelineError.badInput("--segment \(text): expected i/n (e.g. 0/4, the first of 4 parts) or auto/n")
        }
        return try FrameSegment(index: index, count: count)
    }

    /// This segment's frames of a video of `frameCount` frames: floor(i·N/n) ..< floor((i+1)·N/n).
    public func range(frameCount: Int) -> Range<Int> {
        (index * frameCount / count)..<((index + 1) * frameCount / count)
    }

    /// "i/n".
    public var label: String { "\(index)/\(count)" }
}

/// One input's share of a segment: frames `frames` of the input's `inputFrames`.
public struct SegmentPart: Sendable, Equatable {
    public let segment: FrameSegment
    public let frames: Range<Int>
    public let inputFrames: Int

    public init(segment: FrameSegment, frames: Range<Int>, inputFrames: Int) {
        self.segment = segment
        self.frames = frames
        self.inputFrames = inputFrames
    }
}

extension FrameSegment {
    /// This segment's shares of a list of inputs with `frameCounts` frames: the n segments split the
    /// list's frames (the inputs end to end, in order) into balanced ranges, so every task gets about
    /// the same work whatever the inputs' lengths; a segment may span inputs and an input segments.
    /// With one input this is `range(frameCount:)`. Returns every input it touches, in order.
    public func shares(of frameCounts: [Int]) -> [(input: Int, part: SegmentPart)] {
        let total = frameCounts.reduce(0, +)
        let global = range(frameCount: total)
        var shares: [(input: Int, part: SegmentPart)] = []
        var offset = 0
        for (i, n) in frameCounts.enumerated() {
            let lower = max(global.lowerBound, offset), upper = min(global.upperBound, offset + n)
            if lower < upper { shares.append((i, SegmentPart(segment: self, frames: (lower - offset)..<(upper - offset), inputFrames: n))) }
            offset += n
        }
        return shares
    }

    /// Whether this segment reports a problem with the input that starts `offset` frames into a list
    /// of `total` frames: exactly one of the n segments does (the one whose frames hold the offset, the
    /// last one for the list's end), so a broken input fails one task of a cluster job, not all.
    public func owns(offset: Int, total: Int) -> Bool {
        let r = range(frameCount: total)
        return r.contains(offset) || (offset >= total && index == count - 1)
    }
}

extension PoseJob {
    /// The number of frames of `input`; it must be known (files and image folders; not pipes or
    /// live streams) for `--segment`.
    public func frameCount(of input: String) throws -> Int {
        let info: VideoInfo
        do {
            info = try VideoReader(input, options: VideoReaderOptions(imageSequenceFPS: imageSequenceFPS)).info
        } catch {
            throw PipelineError.badInput("\(error)")
        }
        guard let n = info.frameCount else {
            throw PipelineError.badInput("\(input): the number of frames is unknown (a stream, or a container that does not record it), "
                                         + "so --segment cannot split it; use --start/--end, or remux the file (ffmpeg -i X -c copy Y.mp4)")
        }
        return n
    }

    /// The frames `segment` covers in `input` alone.
    public func part(of segment: FrameSegment, in input: String) throws -> SegmentPart {
        let n = try frameCount(of: input)
        let range = segment.range(frameCount: n)
        guard !range.isEmpty else {
            throw PipelineError.badInput("\(input): segment \(segment.label) is empty: the input has \(n) frames, fewer than \(segment.count) segments")
        }
        return SegmentPart(segment: segment, frames: range, inputFrames: n)
    }
}

/// Where a segment's other outputs are, as its keypoint stream's header records them: relative to
/// the stream's folder, so the parts can be moved or merged from another folder together.
public enum SegmentFiles {
    /// `path` as recorded in the header of the stream at `stream` (absolute for stdout or no stream).
    public static func companion(_ path: String, ofStream stream: String?) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        guard let stream, stream != "-" else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        let folder = URL(fileURLWithPath: stream).standardizedFileURL.deletingLastPathComponent().pathComponents
        var common = 0
        while common < min(target.count, folder.count) && target[common] == folder[common] { common += 1 }
        return (Array(repeating: "..", count: folder.count - common) + target[common...]).joined(separator: "/")
    }

    /// The file a header names, found from the stream at `stream`.
    public static func resolve(_ recorded: String, ofStream stream: String) -> String {
        if recorded.hasPrefix("/") { return recorded }
        let folder = (stream as NSString).deletingLastPathComponent
        return folder.isEmpty ? recorded : (folder as NSString).appendingPathComponent(recorded)
    }
}

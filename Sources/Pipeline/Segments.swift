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

extension PoseJob {
    /// The frames `segment` covers in `input`; the frame count must be known (files and image
    /// folders; not pipes or live streams) and at least the number of segments.
    public func frames(of segment: FrameSegment, in input: String) throws -> (range: Range<Int>, frameCount: Int) {
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
        let range = segment.range(frameCount: n)
        guard !range.isEmpty else {
            throw PipelineError.badInput("\(input): segment \(segment.label) is empty: the input has \(n) frames, fewer than \(segment.count) segments")
        }
        return (range, n)
    }
}

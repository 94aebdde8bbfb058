import ArgumentParser
import Failures
import Foundation
import Keypoints
import Pipeline

/// `posewarper merge PART… --keypoints OUT`: one input's segment streams joined into the stream a
/// single run writes.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the keypoint streams of a video's segments (run --segment i/n) into one.",
        discussion: """
        The parts may be given in any order; each stream's header says which segment it is. Every \
        segment must be present once and hold every frame of its range: a missing, repeated or \
        incomplete part is refused with the frames concerned. Track ids continue across the borders: \
        the first frame of a segment is matched to the last frame of the one before with the run's \
        tracking rule (IoU or OKS, its threshold), so the merged stream equals a single run's. The \
        output is written to a temporary file and renamed when complete. Exit codes: 0 ok, 1 bad part, \
        2 output not written, 64 bad command line.
        """)

    @Argument(help: "The segments' keypoint streams, in any order.")
    var parts: [String]

    @Option(help: "The merged keypoint stream: a file, or - for stdout.")
    var keypoints: String

    @Flag(help: "No summary line.")
    var quiet = false

    func run() throws {
        try reportingErrors("merge") {
            try OutputPlan.check([OutputPlan.Output(flag: "--keypoints", path: keypoints, format: .keypointStream)], inputs: parts)
            let merged = try SegmentMerge.merge(parts.map(SegmentMerge.read))
            var text = KeypointStream.encode(merged.header) + "\n"
            for frame in merged.frames { text += KeypointStream.encode(frame) + "\n" }
            let bytes = Data(text.utf8)
            if keypoints == "-" {
                FileHandle.standardOutput.write(bytes)
            } else if let reason = bytes.withUnsafeBytes({ TemporaryFiles.writeAtomically($0, to: keypoints) }) {
                throw PipelineError.outputNotWritten("\(keypoints): write failed: \(reason)")
            }
            if !quiet {
                FileHandle.standardError.write(Data(
                    "posewarper merge: \(parts.count) segments, \(merged.frames.count) frames → \(keypoints == "-" ? "stdout" : keypoints)\n".utf8))
            }
        }
    }
}

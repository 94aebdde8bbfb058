import ArgumentParser
import Failures
import Foundation
import Keypoints
import Pipeline
import Video

/// `posewarper merge PART… --keypoints OUT [--coco OUT] [--posetrack OUT] [--video OUT]`: the outputs of
/// a video's segments (`run --segment`) joined into those a single run writes.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the outputs of a video's segments (run --segment i/n) into one.",
        discussion: """
        PART… are the segments' keypoint streams, in any order: each header says which frames it \
        covers and names the segment's other outputs (its COCO, PoseTrack and video files, relative to \
        the stream's folder), which --coco, --posetrack and --video join. Every frame must be in exactly \
        one part: a missing, repeated, overlapping or incomplete part, or a file of another run, is \
        refused naming the files and frames. Track ids continue across the borders (the run's tracking \
        rule, IoU or OKS, matches each segment's first frame to the previous one's last), in the stream \
        and the PoseTrack file alike; keypoints, COCO and PoseTrack files equal a single run's byte for \
        byte. The video is joined by copying the parts' packets (no re-encoding), audio included; the \
        ids drawn in it are each segment's own. Parts of several inputs (run --segment over a list) are \
        grouped by input: name the outputs with {stem} or {name}. Outputs are written to temporary \
        files and renamed when all of an input's are complete. Exit codes: 0 ok, 1 bad part, 2 output \
        not written, 64 bad command line.
        """)

    @Argument(help: "The segments' keypoint streams, in any order.")
    var parts: [String]

    @Option(help: "The merged keypoint stream: a file, or - for stdout.")
    var keypoints: String?

    @Option(help: "The merged COCO keypoint results (the parts' --coco files).")
    var coco: String?

    @Option(help: "The merged PoseTrack18 file (the parts' --posetrack files).")
    var posetrack: String?

    @Option(help: "The joined annotated video (the parts' --video files), by stream copy.")
    var video: String?

    @Flag(help: "No summary line.")
    var quiet = false

    func validate() throws {
        if parts.isEmpty { throw ValidationError("no parts: give the segments' keypoint streams") }
        if outputs.isEmpty { throw ValidationError("nothing to write: give at least one of --keypoints, --coco, --posetrack, --video") }
        if [coco, posetrack, video].contains("-") { throw ValidationError("only --keypoints can go to stdout (-)") }
        for (flag, path, _) in outputs where path.contains("{index}") || path.contains("{segment}") {
            throw ValidationError("\(flag) \(path): merge names outputs by input with {stem} or {name} only")
        }
    }

    /// The outputs asked for: flag, path (maybe a template), format.
    var outputs: [(flag: String, path: String, format: OutputPlan.Format)] {
        let all: [(String, String?, OutputPlan.Format)] = [("--keypoints", keypoints, .keypointStream), ("--coco", coco, .cocoResults),
                                                           ("--posetrack", posetrack, .poseTrack), ("--video", video, .video)]
        return all.compactMap { f in f.1.map { (f.0, $0, f.2) } }
    }

    func run() throws {
        try reportingErrors("merge") {
            let groups = SegmentMerge.byInput(try parts.map(SegmentMerge.read))
            if groups.count > 1 {
                let inputs = groups.map { $0[0].segment.input ?? "?" }
                for (flag, path, _) in outputs where !(path.contains("{stem}") || path.contains("{name}")) {
                    throw PipelineError.outputNotWritten("\(flag) \(path): the parts are of \(groups.count) inputs (\(inputs.prefix(3).joined(separator: ", "))"
                                                         + "\(groups.count > 3 ? ", …" : "")): name the outputs with {stem} or {name}, e.g. merged/{stem}.jsonl")
                }
            }
            // Every output of every input checked before any is written.
            func name(_ path: String, _ group: [SegmentMerge.Part]) -> String {
                OutputTemplate.expand(path, input: group[0].segment.input ?? "", index: 0, segment: nil)
            }
            var planned: [OutputPlan.Output] = []
            var read = parts
            for group in groups {
                for (flag, path, format) in outputs {
                    planned.append(.init(flag: groups.count > 1 ? "\(flag) for \(group[0].segment.input ?? "?")" : flag, path: name(path, group), format: format))
                }
                for part in group {
                    read += [part.segment.coco, part.segment.posetrack, part.segment.video].compactMap { $0 }
                        .map { SegmentFiles.resolve($0, ofStream: part.path) }
                }
            }
            try OutputPlan.check(planned, inputs: read)

            var bad = 0, failed = 0
            for group in groups {
                do {
                    try merge(group, named: { name($0, group) })
                } catch {
                    if groups.count == 1 { throw error }
                    FileHandle.standardError.write(Data("posewarper merge: \(group[0].segment.input ?? "?"): \(error)\n".utf8))
                    if ExitStatus.code(for: error) == ExitStatus.badInput { bad += 1 } else { failed += 1 }
                }
            }
            if groups.count > 1 && (!quiet || bad + failed > 0) {
                FileHandle.standardError.write(Data("posewarper merge: \(groups.count) inputs: \(groups.count - bad - failed) merged, \(bad) bad, \(failed) failed\n".utf8))
            }
            if failed > 0 { throw ExitCode(ExitStatus.failed) }
            if bad > 0 { throw ExitCode(ExitStatus.badInput) }
        }
    }

    /// One input's parts: every output prepared under a temporary name, then all moved into place.
    func merge(_ group: [SegmentMerge.Part], named name: (String) -> String) throws {
        let merged = try SegmentMerge.merge(group)
        var pending: [PendingOutput] = []
        var joined: VideoConcatenation?
        do {
            if let coco { pending.append(try ResultFilesMerge.write(.coco, of: merged, to: name(coco))) }
            if let posetrack { pending.append(try ResultFilesMerge.write(.posetrack, of: merged, to: name(posetrack))) }
            if let video {
                let files = try merged.parts.map(SegmentMerge.videoFile)
                do {
                    joined = try VideoConcatenation(parts: files, expectedFrames: merged.parts.map { $0.segment.end - $0.segment.start },
                                                    path: name(video))
                } catch let error as VideoError {
                    // A part that does not fit is a bad part (1); a video that cannot be written is not (2).
                    if case .frameMismatch = error { throw PipelineError.badInput("\(error)") }
                    throw error.isInputProblem ? PipelineError.badInput("\(error)") : error
                }
            }
            // The stream last: to stdout it is written at once.
            if let keypoints { pending.append(try SegmentMerge.writeStream(merged, to: name(keypoints))) }
            try joined?.commit()
            for file in pending { try file.commit() }
        } catch {
            joined?.discard()
            pending.forEach { $0.discard() }
            throw error
        }
        if !quiet {
            let written = outputs.map { $0.path == "-" ? "stdout" : name($0.path) }.joined(separator: ", ")
            FileHandle.standardError.write(Data(
                "posewarper merge: \(group.count) segments, \(merged.frames.count) frames → \(written)\n".utf8))
            if video != nil && SegmentMerge.renamesTracks(merged) {
                FileHandle.standardError.write(Data(("posewarper merge: note: the video shows each segment's own track ids; "
                    + "posewarper render \(merged.parts[0].segment.input ?? "INPUT") --keypoints MERGED.jsonl -o OUT.mp4 draws the merged ones\n").utf8))
            }
        }
    }
}

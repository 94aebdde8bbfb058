import ArgumentParser
import Engine
import Foundation
import Keypoints
import Pipeline
import Video
#if canImport(Glibc)
import Glibc
#endif

/// `posewarper propagate`: labels on some frames of a video → labels on every frame.
///
/// Exit codes: 0 success; 1 bad input (labels naming frames outside the video or unknown image ids,
/// keypoint counts that do not match the schema, unreadable files, a model that does not fit);
/// 2 internal failure; 64 bad command line.
struct PropagateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propagate",
        abstract: "Propagate keypoint labels from labelled frames to every frame of a video.",
        discussion: """
        LABELS is COCO keypoints (a document with images/annotations/categories, or a list of \
        annotations; image ids map to frames as --boxes maps them) or a PoseTrack18 video JSON. The \
        output has the input's format, an entry for every frame, the labelled frames unchanged, and \
        for every other frame the poses of the tracks labelled within --max-gap frames, each with \
        the track id it came from, per-keypoint scores and a score. Methods: warp (PoseWarper's \
        reversed application: needs a PoseWarper checkpoint), interpolate (linear per track and \
        joint), copy (the nearest labelled frame of the track).
        """)

    @Argument(help: "Video file, image folder, printf pattern or URL.")
    var input: String

    @Option(help: "Sparse labels: COCO keypoints JSON or PoseTrack18 video JSON.")
    var labels: String

    @Option(help: "Dense labels to write (same format as --labels).")
    var out: String

    @Option(help: "Pipeline file (Pipelines/*.yml): model, schema, crop settings.")
    var pipeline: String?

    @Option(help: "Checkpoint (.pth or .safetensors); overrides the pipeline's model.weights.")
    var weights: String?

    @Option(help: "A PoseWarper model by name, with its pipeline file (posewarper models lists them; downloaded on first use).")
    var model: String?

    @Option(help: "warp | interpolate | copy.")
    var method: String = PropagationMethod.warp.rawValue

    @Option(help: "Largest distance in frames from a labelled frame to propagate over.")
    var maxGap: Int = 3

    @Option(help: "Also write the JSON Lines keypoint stream: a file, or - for stdout.")
    var keypoints: String?

    @Option(help: "Threads for the network (default: all cores).")
    var threads: Int?

    @Option(help: Precision.help)
    var precision: Precision?

    @Flag(help: "No summary on stderr.")
    var quiet = false

    func validate() throws {
        guard PropagationMethod(rawValue: method) != nil else {
            throw ValidationError("--method must be one of \(PropagationMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if maxGap < 1 { throw ValidationError("--max-gap must be at least 1") }
        if out == "-" { throw ValidationError("--out must be a file (only --keypoints can go to stdout)") }
        if let k = keypoints, k == out { throw ValidationError("--keypoints and --out name the same file") }
        if out == labels { throw ValidationError("--out must not overwrite --labels") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        try Precision.validate(precision)
        if let model {
            if pipeline != nil || weights != nil { throw ValidationError("--model excludes --pipeline and --weights (the model brings both)") }
            _ = try NamedModels.entry(model, flag: "--model", tasks: [.videoPose])
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // A closed stdout (`--keypoints - | head`) ends quietly; other errors through the one mapping.
        try reportingErrors("propagate") {
            do { try execute() } catch is OutputClosed {}
        }
    }

    func execute() throws {
        let clock = ContinuousClock.now
        let method = PropagationMethod(rawValue: method)!
        var config: PipelineConfig?
        if let model {
            config = try NamedModels.poseConfig(model, command: "propagate", quiet: quiet)
        } else if let file = pipeline { config = try PipelineFile.load(file) }
        if method == .warp, config == nil {
            guard let weights else {
                throw PipelineError.badInput("--method warp needs a PoseWarper model: pass --weights FILE (and optionally --pipeline FILE)")
            }
            config = try PoseJob.defaultConfig(forWeights: weights)
        }

        let reader: VideoReader
        do { reader = try VideoReader(input) } catch { throw PipelineError.badInput("\(error)") }
        let frameNames = imageSequenceFiles(input)?.map { ($0 as NSString).lastPathComponent }
        // Image folders know their frames; a video's container count can be off, so count exactly.
        let frameCount = try frameNames?.count ?? reader.countRemaining()
        let labelsFile = try LabelsFile(path: labels, frameCount: frameCount, schema: config?.model.schema, frameNames: frameNames)
        let plan = PropagationPlan(labelsFile, maxGap: maxGap)

        let propagated: [Int: [PropagatedPose]]
        switch method {
        case .copy, .interpolate:
            propagated = LabelPropagation.run(plan, method: method, joints: labelsFile.schema.keypoints.count)
        case .warp:
            if let threads { EngineThreads.set(threads) }
            if let precision { config!.model.precision = precision }
            let warper = try LabelWarper(config: config!, weights: weights)
            propagated = try warper.run(plan, video: input)
        }

        let dense = DenseLabels(labels: labelsFile, propagated: propagated, frameNames: frameNames)
        try dense.write(to: out)
        if let k = keypoints {
            try dense.writeKeypoints(to: k, width: reader.info.width, height: reader.info.height, fps: reader.info.averageFPS)
        }
        if !quiet {
            let poses = propagated.values.reduce(0) { $0 + $1.count }
            let seconds = (ContinuousClock.now - clock).components.seconds
            FileHandle.standardError.write(Data(
                "posewarper propagate: \(frameCount) frames, \(labelsFile.labelledFrames.count) labelled, \(poses) poses propagated (\(method.rawValue), max gap \(maxGap)) in \(seconds) s → \(out)\n".utf8))
        }
    }
}

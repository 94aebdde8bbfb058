import ArgumentParser
import Evaluation
import Foundation

/// `posewarper evaluate --gt GT --pred PRED`: keypoint accuracy (COCO AP, PCK) or tracking (MOTA).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score predicted keypoints against ground truth: COCO keypoint AP/AR and PCK, or tracking MOTA.",
        discussion: """
        GT is a COCO keypoints JSON or a PoseTrack18 per-video JSON. PRED is COCO keypoint results \
        (what `run --coco` writes), a PoseTrack18 prediction JSON (`run --posetrack`) or a keypoint \
        stream (`run --keypoints`), whose frames find their images by --frames. Exit status 1 when a \
        file is missing or malformed.
        """)

    @Option(name: .customLong("gt"), help: "Ground truth: COCO keypoints JSON or PoseTrack18 JSON.")
    var groundTruth: String

    @Option(name: .customLong("pred"), help: "Predictions: COCO keypoint results, PoseTrack18 JSON or keypoint stream.")
    var predictions: String

    @Flag(help: "Tracking metrics (MOTA, MOTP, precision, recall, ID switches) as PoseTrack's poseval.")
    var tracking = false

    @Flag(help: "Only PCK (skip COCO AP).")
    var pckOnly = false

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    @Option(help: "How keypoint-stream frame indices find ground-truth images: auto, id, posetrack, filename.")
    var frames: FrameNumbering = .auto

    @Option(help: "Evaluate one video of a multi-video ground truth (its vid_id, PoseTrack video number or folder).")
    var video: String?

    func validate() throws {
        if tracking && pckOnly { throw ValidationError("--pck-only does not apply to --tracking") }
    }

    func run() throws {
        do {
            var gt = try GroundTruth(path: groundTruth)
            if let video { gt = try gt.restricted(toVideo: video) }
            let preds = try PredictionSet(path: predictions, groundTruth: gt, numbering: frames)
            if preds.framesWithoutGroundTruth > 0 {
                FileHandle.standardError.write(Data("posewarper evaluate: note: \(preds.framesWithoutGroundTruth) frames of \(predictions) have persons but no labelled ground-truth image (left out)\n".utf8))
            }
            let report = try EvaluationReport.evaluate(groundTruth: gt, predictions: preds, tracking: tracking, pckOnly: pckOnly)
            print(json ? report.json : report.table)
        } catch let error as EvaluationError {
            FileHandle.standardError.write(Data("posewarper evaluate: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

extension FrameNumbering: ExpressibleByArgument {}

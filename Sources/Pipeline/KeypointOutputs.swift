import Foundation
import Keypoints

/// One destination of a run's results; the run calls `begin`, then `write` for every frame in frame
/// order, then `finish` when every frame was written, `finishIncomplete` when the run stopped early
/// (Ctrl-C, SIGTERM, a closed stream), or `abort` after a failure.
public protocol PoseOutput: AnyObject {
    func begin(_ run: RunDescription) throws
    func write(_ frame: FrameResult) throws
    func finish() throws
    func abort()
    /// The run stopped before its last frame: keep the output if it is valid up to the last frame
    /// written (streams, video), else drop it; returns the path of a dropped output.
    func finishIncomplete() throws -> String?
}

extension PoseOutput {
    /// By default an output stays valid up to its last frame.
    public func finishIncomplete() throws -> String? {
        try finish()
        return nil
    }
}

/// The JSON Lines keypoint stream (`KeypointStream`): header line, then one line per frame, each
/// written as soon as the frame is done so `| jq` and `| head` work live. "-" is stdout.
public final class KeypointStreamOutput: PoseOutput {
    let path: String
    private var file: OutputFile?

    public init(path: String) { self.path = path }

    public func begin(_ run: RunDescription) throws {
        let file = try OutputFile(path: path, atomic: false)
        self.file = file
        var header = KeypointStreamHeader(schema: run.schema, video: .init(width: run.width, height: run.height,
                                                                             fps: run.fps, frames: run.frameCount))
        header.segment = run.segment
        try file.write(KeypointStream.encode(header) + "\n")
    }

    public func write(_ frame: FrameResult) throws {
        try file?.write(KeypointStream.encode(frame.keypoints) + "\n")
    }

    public func finish() throws { try file?.commit() }
    public func abort() {
        // A stream is valid JSON Lines up to its last line; keep what was written.
        file?.discard()
    }
}

/// COCO keypoint results (`[{image_id, category_id: 1, keypoints: [x,y,s ×17], score}]`), the file
/// pycocotools `COCO.loadRes` reads. Written entry by entry, so memory does not grow with the video.
public final class COCOResultsOutput: PoseOutput {
    private let path: String
    private let rescoreThreshold: Double
    private var file: OutputFile?
    private var imageIDs = RunDescription.ImageIDs.frameIndex
    private var count = 0

    public init(path: String, rescoreThreshold: Double = 0.2) {
        self.path = path
        self.rescoreThreshold = rescoreThreshold
    }

    public func begin(_ run: RunDescription) throws {
        file = try OutputFile(path: path, atomic: true)
        imageIDs = run.imageIDs
        try file?.write("[")
    }

    public func write(_ frame: FrameResult) throws {
        var text = ""
        for person in frame.keypoints.persons {
            text += (count == 0 ? "\n" : ",\n")
            count += 1
            let keypoints = person.keypoints.flatMap { $0 }.map(jsonNumber).joined(separator: ",")
            text += "{\"image_id\":\(imageIDs.id(frame: frame.keypoints.frame)),\"category_id\":1,\"keypoints\":[\(keypoints)],"
            text += "\"score\":\(jsonNumber(person.rescoredScore(threshold: rescoreThreshold)))}"
        }
        if !text.isEmpty { try file?.write(text) }
    }

    public func finish() throws {
        try file?.write("\n]\n")
        try file?.commit()
    }

    public func abort() { file?.discard() }

    /// COCO results cannot say they are incomplete, so a stopped run does not produce them.
    public func finishIncomplete() throws -> String? {
        file?.discard()
        return path
    }
}

/// PoseTrack18 prediction JSON for one video: `annotations` (image_id, track_id, keypoints 51,
/// scores 17, score, bbox), then `images` with an entry for EVERY frame (the official evaluation
/// needs them all), then `categories`. Annotations stream to disk; images are generated at the end.
public final class PoseTrackOutput: PoseOutput {
    private let path: String
    private let rescoreThreshold: Double
    private var file: OutputFile?
    private var run: RunDescription?
    private var framesWritten = 0
    private var firstFrame: Int?
    private var count = 0

    public init(path: String, rescoreThreshold: Double = 0.2) {
        self.path = path
        self.rescoreThreshold = rescoreThreshold
    }

    public func begin(_ run: RunDescription) throws {
        guard run.schema == .posetrack18 else { throw OutputPlan.poseTrackSchemaMismatch(path, schema: run.schema) }
        self.run = run
        file = try OutputFile(path: path, atomic: true)
        try file?.write("{\"annotations\":[")
    }

    public func write(_ frame: FrameResult) throws {
        guard let run else { return }
        let ids = RunDescription.ImageIDs.poseTrack(video: run.poseTrackVideoID)
        if firstFrame == nil { firstFrame = frame.keypoints.frame }
        framesWritten = frame.keypoints.frame - firstFrame! + 1
        var text = ""
        for person in frame.keypoints.persons {
            text += (count == 0 ? "\n" : ",\n")
            count += 1
            let keypoints = person.keypoints.flatMap { $0 }.map(jsonNumber).joined(separator: ",")
            let scores = person.keypoints.map { jsonNumber($0[2]) }.joined(separator: ",")
            let bbox = person.bbox.map(jsonNumber).joined(separator: ",")
            text += "{\"image_id\":\(ids.id(frame: frame.keypoints.frame)),\"track_id\":\(person.trackID ?? 0),"
            text += "\"keypoints\":[\(keypoints)],\"scores\":[\(scores)],"
            text += "\"score\":\(jsonNumber(person.rescoredScore(threshold: rescoreThreshold))),"
            text += "\"bbox\":[\(bbox)],\"category_id\":1}"
        }
        if !text.isEmpty { try file?.write(text) }
    }

    public func finish() throws {
        guard let run, let file else { return }
        let first = firstFrame ?? 0
        let videoID = run.poseTrackVideoID
        let stem = run.inputStem
        var text = "\n],\"images\":["
        for i in 0..<framesWritten {
            let frame = first + i
            let id = RunDescription.ImageIDs.poseTrack(video: videoID).id(frame: frame)
            let name = run.frameNames.map { frame < $0.count ? $0[frame] : String(format: "%06d.jpg", frame) }
                ?? String(format: "%06d.jpg", frame)
            text += (i == 0 ? "\n" : ",\n")
            text += "{\"file_name\":\(jsonString("images/\(stem)/\(name)")),\"id\":\(id),\"frame_id\":\(id),"
            text += "\"vid_id\":\"\(String(format: "%06d", videoID))\",\"nframes\":\(framesWritten),\"is_labeled\":true}"
            if text.utf8.count > 1 << 16 { try file.write(text); text = "" }
        }
        let names = run.schema.keypoints.map(jsonString).joined(separator: ",")
        let skeleton = run.schema.skeleton.map { "[\($0[0] + 1),\($0[1] + 1)]" }.joined(separator: ",")
        text += "\n],\"categories\":[{\"id\":1,\"name\":\"person\",\"supercategory\":\"person\",\"keypoints\":[\(names)],\"skeleton\":[\(skeleton)]}]}\n"
        try file.write(text)
        try file.commit()
    }

    public func abort() { file?.discard() }

    /// A PoseTrack file must list every frame of the video, so a stopped run does not produce it.
    public func finishIncomplete() throws -> String? {
        file?.discard()
        return path
    }
}

/// A string as a JSON literal.
func jsonString(_ s: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}

/// Hands every finished frame to a closure (the library's live callback).
public final class CallbackOutput: PoseOutput {
    private let handler: (FrameResult) throws -> Void
    public init(_ handler: @escaping (FrameResult) throws -> Void) { self.handler = handler }
    public func begin(_ run: RunDescription) throws {}
    public func write(_ frame: FrameResult) throws { try handler(frame) }
    public func finish() throws {}
    public func abort() {}
}

import Foundation
import Keypoints

/// The output of `posewarper propagate`: the labels file made dense, in the input's format. Every
/// frame of the video has an image entry; labelled frames keep their image entries and annotations
/// exactly as read; every other frame gets the propagated poses, each an annotation carrying the
/// track id of the labels it came from, per-keypoint `scores` and a `score`.
public struct DenseLabels {
    public let labels: LabelsFile
    /// Propagated poses per unlabelled frame.
    public let propagated: [Int: [PropagatedPose]]
    /// File names of an image folder's frames (for the image entries of frames the input lacks).
    public let frameNames: [String]?

    public init(labels: LabelsFile, propagated: [Int: [PropagatedPose]], frameNames: [String]? = nil) {
        self.labels = labels
        self.propagated = propagated
        self.frameNames = frameNames
    }

    /// Writes the dense labels JSON (to a hidden file renamed when complete).
    public func write(to path: String) throws {
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: document(), options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw PipelineError.internalFailure("\(path): cannot encode the dense labels: \(error)")
        }
        let file = try OutputFile(path: path, atomic: true)
        do {
            try file.write(String(decoding: data, as: UTF8.self) + "\n")
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }

    /// The dense document: a COCO / PoseTrack object, or a list for a bare COCO annotation list.
    public func document() -> Any {
        var nextID = (labels.instances.values.joined().compactMap { LabelsFile.integer($0.annotation["id"]) }.max() ?? 0) + 1
        let giveIDs = labels.document != nil
        let imageIDs = imageIDScheme()
        var annotations: [Any] = []
        for frame in 0..<labels.frameCount {
            if let list = labels.instances[frame] { annotations += list.map { $0.annotation as Any } }
            for pose in propagated[frame] ?? [] {
                var a = annotation(pose, imageID: imageIDs(frame))
                if giveIDs { a["id"] = nextID; nextID += 1 }
                annotations.append(a)
            }
        }
        guard var document = labels.document else { return annotations }
        document["annotations"] = annotations
        document["images"] = (0..<labels.frameCount).map { image(frame: $0, id: imageIDs($0)) }
        return document
    }

    /// The annotation of a propagated pose: keypoints with the sources' visibility flags.
    func annotation(_ pose: PropagatedPose, imageID: Int) -> [String: Any] {
        let keypoints = zip(pose.keypoints, pose.flags).flatMap { p, flag in [rounded(p[0]), rounded(p[1]), flag] }
        var a: [String: Any] = [
            "image_id": imageID, "category_id": 1, "track_id": pose.trackID,
            "keypoints": keypoints, "scores": pose.keypoints.map { rounded($0[2]) }, "score": rounded(pose.score),
            "bbox": pose.box.xywh.map(rounded),
        ]
        if labels.format == .coco {
            a["num_keypoints"] = pose.flags.filter { $0 > 0 }.count
            a["area"] = rounded(pose.box.area)
            a["iscrowd"] = 0
        }
        return a
    }

    /// The image entry of a frame: as read, with `nframes` set to the video's frame count and
    /// `is_labeled` true where poses were propagated; or a new entry modelled on the nearest one read.
    func image(frame: Int, id: Int) -> [String: Any] {
        let hasPoses = !(propagated[frame] ?? []).isEmpty
        if var image = labels.images[frame] {
            if image["nframes"] != nil { image["nframes"] = labels.frameCount }
            if hasPoses && image["is_labeled"] != nil { image["is_labeled"] = true }
            return image
        }
        let template = labels.images.min { abs($0.key - frame) < abs($1.key - frame) || (abs($0.key - frame) == abs($1.key - frame) && $0.key < $1.key) }?.value
        var image: [String: Any] = ["id": id]
        image["file_name"] = fileName(frame: frame, template: template?["file_name"] as? String)
        for key in ["vid_id", "width", "height"] { if let v = template?[key] { image[key] = v } }
        if labels.format == .posetrack || template?["frame_id"] != nil { image["frame_id"] = id }
        if labels.format == .posetrack || template?["nframes"] != nil { image["nframes"] = labels.frameCount }
        if labels.format == .posetrack || template?["is_labeled"] != nil { image["is_labeled"] = hasPoses }
        return image
    }

    /// A new frame's file name: the template's with its leading frame number replaced (same digit
    /// count), or the image folder's name in the template's folder, or "%06d.jpg".
    func fileName(frame: Int, template: String?) -> String {
        let folder = template.map { ($0 as NSString).deletingLastPathComponent } ?? ""
        func inFolder(_ name: String) -> String { folder.isEmpty ? name : folder + "/" + name }
        if let names = frameNames, frame < names.count { return inFolder(names[frame]) }
        guard let template else { return String(format: "%06d.jpg", frame) }
        let base = (template as NSString).lastPathComponent
        let digits = base.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return inFolder(String(format: "%06d.jpg", frame)) }
        let number = String(frame)
        let padded = String(repeating: "0", count: max(0, digits.count - number.count)) + number
        return inFolder(padded + base.dropFirst(digits.count))
    }

    /// Image ids for every frame: those read; for other frames PoseTrack ids when the file uses
    /// them, else the frame index plus the file's constant id offset, else new ids after the largest.
    func imageIDScheme() -> (Int) -> Int {
        let known = labels.images.compactMapValues { LabelsFile.integer($0["id"]) }
        if let video = labels.poseTrackVideo {
            return { known[$0] ?? BoxesFile.poseTrackFrameID(video: video, frame: $0) }
        }
        let offsets = Set(known.map { $0.value - $0.key })
        if offsets.count <= 1 {
            let offset = offsets.first ?? 0
            return { known[$0] ?? $0 + offset }
        }
        var next = (known.values.max() ?? 0) + 1
        var fresh: [Int: Int] = [:]
        for frame in 0..<labels.frameCount where known[frame] == nil { fresh[frame] = next; next += 1 }
        return { known[$0] ?? fresh[$0]! }
    }

    /// Every frame in the keypoint stream's form: labelled persons with score 1 on their labelled
    /// slots (0 elsewhere), propagated poses with their scores. Times are frame / fps.
    public func keypointFrames(fps: Double) -> [FrameKeypoints] {
        (0..<labels.frameCount).map { frame in
            var persons: [PersonPose] = []
            for p in labels.instances[frame] ?? [] {
                let keypoints = p.keypoints.map { [$0[0], $0[1], $0[2] > 0 ? 1.0 : 0.0] }
                let labelled = keypoints.contains { $0[2] > 0 }
                persons.append(PersonPose(trackID: p.trackID, bbox: (p.box ?? PersonBox(x: 0, y: 0, width: 0, height: 0)).xywh,
                                          score: labelled ? 1 : 0, keypoints: keypoints))
            }
            for pose in propagated[frame] ?? [] {
                persons.append(PersonPose(trackID: pose.trackID, bbox: pose.box.xywh, score: pose.score, keypoints: pose.keypoints))
            }
            return FrameKeypoints(frame: frame, time: fps > 0 ? Double(frame) / fps : 0, persons: persons)
        }
    }

    /// Writes the keypoint stream (header, then one line per frame); "-" is stdout.
    public func writeKeypoints(to path: String, width: Int, height: Int, fps: Double) throws {
        let file = try OutputFile(path: path, atomic: false)
        let header = KeypointStreamHeader(schema: labels.schema, video: .init(width: width, height: height, fps: fps,
                                                                              frames: labels.frameCount))
        try file.write(KeypointStream.encode(header) + "\n")
        for frame in keypointFrames(fps: fps) { try file.write(KeypointStream.encode(frame) + "\n") }
        try file.commit()
    }

    /// 4 decimals, as the other outputs write coordinates.
    func rounded(_ x: Double) -> Double { x.isFinite ? (x * 10000).rounded() / 10000 : 0 }
}

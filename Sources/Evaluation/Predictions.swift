import Foundation
import Keypoints

/// One predicted person on one ground-truth image.
public struct Prediction: Sendable {
    public var imageID: Int
    /// x, y, score for each keypoint slot.
    public var keypoints: [Double]
    /// The instance score detections are ranked by.
    public var score: Double
    /// Area as pycocotools `loadRes` sets it: the box's when the results carry boxes, else the
    /// keypoints' extent.
    public var area: Double
    public var trackID: Int?
}

/// How keypoint-stream frames (0-based indices) find their ground-truth images.
public enum FrameNumbering: String, Sendable, CaseIterable {
    /// PoseTrack ids when every image id is one; else the file names' numbers when every labelled
    /// image has a distinct one; else the image id.
    case auto
    /// The image id is the frame index (what `posewarper run --coco` writes).
    case id
    /// PoseTrack ids: the last four digits are the frame index.
    case posetrack
    /// The number the image's file name starts with ("000042.jpg" → 42).
    case filename
}

/// Predictions from a COCO keypoint results file, a PoseTrack18 prediction JSON, or a keypoint
/// stream (JSON Lines), attached to ground-truth images.
public struct PredictionSet: Sendable {
    /// The file read.
    public let path: String
    /// Predictions in file order.
    public let predictions: [Prediction]
    /// What the file was: "coco-results", "posetrack18" or "keypoint-stream".
    public let format: String
    /// Stream frames with persons that have no ground-truth image (left out).
    public let framesWithoutGroundTruth: Int

    /// Reads `path` and maps its entries to the images of `groundTruth`.
    public init(path: String, groundTruth gt: GroundTruth, numbering: FrameNumbering = .auto) throws {
        self.path = path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EvaluationError("\(path): cannot read predictions: \((error as NSError).localizedDescription)")
        }
        let parsed = try? JSONSerialization.jsonObject(with: data)
        let slots = gt.keypointCount
        if let list = parsed as? [Any] {
            format = "coco-results"
            predictions = try PredictionSet.entries(list, path: path, slots: slots, place: "\(path): entry", gt: gt)
            framesWithoutGroundTruth = 0
        } else if let dict = parsed as? [String: Any], dict["annotations"] != nil {
            format = "posetrack18"
            guard let list = dict["annotations"] as? [Any] else { throw EvaluationError("\(path): \"annotations\" must be a list") }
            predictions = try PredictionSet.entries(list, path: path, slots: slots, place: "\(path): annotations", gt: gt)
            framesWithoutGroundTruth = 0
        } else if parsed == nil || (parsed as? [String: Any]).map({ $0["frame"] != nil || $0["schema"] != nil }) == true {
            format = "keypoint-stream"
            let stream: (header: KeypointStreamHeader?, frames: [FrameKeypoints])
            do { stream = try KeypointStream.read(path: path) } catch {
                if parsed == nil, data.first.map({ $0 != UInt8(ascii: "{") }) ?? true {
                    throw EvaluationError("\(path): predictions are not valid JSON nor a keypoint stream")
                }
                throw EvaluationError("\(error)")
            }
            let frameToImage = try gt.frameIndex(numbering)
            var preds: [Prediction] = []
            var unmatched = 0
            for frame in stream.frames {
                guard let imageID = frameToImage[frame.frame] else {
                    if !frame.persons.isEmpty { unmatched += 1 }
                    continue
                }
                for (i, person) in frame.persons.enumerated() {
                    guard person.keypoints.count == slots else {
                        throw EvaluationError("\(path): frame \(frame.frame) person \(i): \(person.keypoints.count) keypoints, the ground truth has \(slots)")
                    }
                    let flat = person.keypoints.flatMap { $0 }
                    preds.append(Prediction(imageID: imageID, keypoints: flat, score: person.rescoredScore(),
                                            area: keypointExtentArea(flat), trackID: person.trackID))
                }
            }
            predictions = preds
            framesWithoutGroundTruth = unmatched
        } else {
            throw EvaluationError("\(path): predictions must be COCO keypoint results (a JSON list), a PoseTrack18 JSON (with \"annotations\") or a keypoint stream")
        }
    }

    /// COCO results entries (also PoseTrack18 prediction annotations), mapped to ground-truth images.
    private static func entries(_ list: [Any], path: String, slots: Int, place: String, gt: GroundTruth) throws -> [Prediction] {
        // pycocotools `loadRes` takes areas from boxes when the first result has a non-empty box.
        let boxAreas = ((list.first as? [String: Any])?["bbox"] as? [Any]).map { !$0.isEmpty } ?? false
        var out: [Prediction] = []
        out.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            let f = try JSONFields(item, place: "\(place)[\(i)]")
            if let c = try f.integer("category_id"), c != 1 { continue }
            let imageID = try f.requiredInteger("image_id")
            guard let k = try f.numbers("keypoints") else { throw EvaluationError("\(f.place): missing \"keypoints\"") }
            guard k.count == slots * 3 else {
                throw EvaluationError("\(f.place): \(k.count) keypoint numbers, the ground truth needs \(slots * 3) (x, y, score per slot)")
            }
            let score = try f.requiredNumber("score")
            var area = keypointExtentArea(k)
            if boxAreas {
                guard let b = try f.numbers("bbox", count: 4) else { throw EvaluationError("\(f.place): missing \"bbox\" (the first result has one)") }
                area = b[2] * b[3]
            }
            out.append(Prediction(imageID: imageID, keypoints: k, score: score, area: area, trackID: try f.integer("track_id")))
        }
        return try attach(out, path: path, gt: gt)
    }

    /// Checks that every prediction's image is a ground-truth image. PoseTrack ids of another video
    /// number (a run whose input was named differently) are matched by frame index when the ground
    /// truth is one PoseTrack video.
    private static func attach(_ preds: [Prediction], path: String, gt: GroundTruth) throws -> [Prediction] {
        let known = Set(gt.images.map(\.id))
        let unknown = Set(preds.map(\.imageID)).subtracting(known)
        if unknown.isEmpty { return preds }
        let videos = Set(gt.images.map { PoseTrackID.video($0.id) })
        if gt.images.allSatisfy({ PoseTrackID.isPoseTrackID($0.id) }), videos.count == 1,
           preds.allSatisfy({ PoseTrackID.isPoseTrackID($0.imageID) }) {
            let byFrame = Dictionary(gt.images.map { (PoseTrackID.frame($0.id), $0.id) }, uniquingKeysWith: { a, _ in a })
            var out = preds
            for i in out.indices {
                guard let id = byFrame[PoseTrackID.frame(out[i].imageID)] else {
                    throw EvaluationError("\(path): image id \(out[i].imageID) (frame \(PoseTrackID.frame(out[i].imageID))) has no ground-truth frame in \(gt.path)")
                }
                out[i].imageID = id
            }
            return out
        }
        let listed = unknown.sorted().prefix(5).map(String.init).joined(separator: ", ")
        throw EvaluationError("\(path): \(unknown.count) image id(s) are not in the ground truth \(gt.path): \(listed)")
    }
}

/// pycocotools `loadRes`'s area for keypoint results without boxes: the keypoints' bounding extent.
func keypointExtentArea(_ k: [Double]) -> Double {
    let xs = stride(from: 0, to: k.count, by: 3).map { k[$0] }
    let ys = stride(from: 1, to: k.count, by: 3).map { k[$0] }
    return (xs.max()! - xs.min()!) * (ys.max()! - ys.min()!)
}

extension GroundTruth {
    /// Frame index → image id for the labelled images, under `numbering`.
    func frameIndex(_ numbering: FrameNumbering) throws -> [Int: Int] {
        var chosen = numbering
        if chosen == .auto {
            let labelled = images.filter(\.isLabeled)
            let numbers = labelled.compactMap { $0.fileName.flatMap(GroundTruth.leadingNumber) }
            if !images.isEmpty && images.allSatisfy({ PoseTrackID.isPoseTrackID($0.id) }) { chosen = .posetrack }
            else if !labelled.isEmpty && numbers.count == labelled.count && Set(numbers).count == numbers.count { chosen = .filename }
            else { chosen = .id }
        }
        let sequences = Set(images.map(\.sequence))
        if sequences.count > 1 {
            let listed = sequences.sorted().prefix(5).joined(separator: ", ")
            throw EvaluationError("\(path): the ground truth holds \(sequences.count) videos (\(listed)…) and a keypoint stream is one: choose one with --video")
        }
        var map: [Int: Int] = [:]
        for image in images where image.isLabeled {
            let frame: Int
            switch chosen {
            case .auto, .id: frame = image.id
            case .posetrack:
                guard PoseTrackID.isPoseTrackID(image.id) else { throw EvaluationError("\(path): image id \(image.id) is not a PoseTrack id") }
                frame = PoseTrackID.frame(image.id)
            case .filename:
                guard let n = image.fileName.flatMap(GroundTruth.leadingNumber) else {
                    throw EvaluationError("\(path): image \(image.id): file name '\(image.fileName ?? "")' does not start with a frame number")
                }
                frame = n
            }
            if let other = map[frame] {
                throw EvaluationError("\(path): images \(other) and \(image.id) both map to frame \(frame) (--frames \(chosen.rawValue))")
            }
            map[frame] = image.id
        }
        return map
    }

    /// The number a file name starts with ("images/x/000042.jpg" → 42).
    static func leadingNumber(_ path: String) -> Int? {
        let base = (path as NSString).lastPathComponent
        return Int(base.prefix { $0.isASCII && $0.isNumber }.prefix(18))
    }

    /// The same ground truth restricted to one video (its `sequence`, or the number it holds).
    public func restricted(toVideo video: String) throws -> GroundTruth {
        func same(_ s: String) -> Bool {
            let last = (s as NSString).lastPathComponent
            if s == video || last == video { return true }
            guard let wanted = Int(video) else { return false }
            return Int(s) == wanted || GroundTruth.leadingNumber(last) == wanted
        }
        let kept = images.filter { same($0.sequence) }
        guard !kept.isEmpty else {
            let listed = Set(images.map(\.sequence)).sorted().prefix(8).joined(separator: ", ")
            throw EvaluationError("\(path): no video '\(video)' in the ground truth (videos: \(listed))")
        }
        let ids = Set(kept.map(\.id))
        return GroundTruth(path: path, images: kept, persons: persons.filter { ids.contains($0.imageID) }, keypointNames: keypointNames)
    }
}

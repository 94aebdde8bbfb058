import Failures
import Foundation
import Keypoints

/// A sparse keypoint label file for `posewarper propagate`: COCO keypoints (a ground-truth document
/// `{images, annotations, categories}` or a bare list of annotations) or a PoseTrack18 per-video
/// JSON, with every annotation mapped to a 0-based frame of the video and to a track.
///
/// Image ids map to frames as `--boxes` maps them: images with a `file_name` by that name (a frame
/// file of an image folder, else the number the name starts with), else PoseTrack ids
/// ("1" + 6-digit video + 4-digit frame), else the id is the frame index.
public struct LabelsFile {
    /// The two label formats; the output is written in the input's.
    public enum Format: String, Sendable { case coco, posetrack }

    /// One labelled person in one frame.
    public struct Instance {
        /// The person's track (from `track_id`, or linked across labelled frames when the file has none).
        public var trackID: Int
        /// The labelled box, or the extent of the labelled keypoints when the annotation has no box;
        /// nil when it has neither (such a label is kept but cannot be propagated).
        public var box: PersonBox?
        /// One [x, y, flag] per schema slot; flag > 0 = labelled (COCO 1/2, PoseTrack 1).
        public var keypoints: [[Double]]
        /// The annotation object as read (written back unchanged).
        public var annotation: [String: Any]

        /// Whether slot `k` carries a label.
        public func isLabelled(_ k: Int) -> Bool { keypoints[k][2] > 0 }
    }

    /// How image ids became frames.
    public enum Mapping: String, Sendable { case frameIndex = "frame", poseTrackID = "posetrack", fileName = "filename" }

    public let path: String
    public let format: Format
    public let schema: KeypointSchema
    public let mapping: Mapping
    /// Frames in the video; every label's frame is below it.
    public let frameCount: Int
    /// Frames whose labels are given (possibly with no persons), ascending.
    public let labelledFrames: [Int]
    /// The labelled persons of each labelled frame, in file order.
    public let instances: [Int: [Instance]]
    /// True when the file gave track ids; false when they were linked here.
    public let hasTrackIDs: Bool
    /// The top-level object as read (nil for a bare COCO list).
    let document: [String: Any]?
    /// The `images` entries as read, by frame.
    let images: [Int: [String: Any]]
    /// The PoseTrack video id of the image ids, when they are PoseTrack ids.
    let poseTrackVideo: Int?

    /// Box IoU above which instances of consecutive labelled frames are linked into one track when
    /// the file has no track ids: low, because labelled frames lie several frames apart.
    public static let linkThreshold = 0.1

    /// Reads `path` for a video of `frameCount` frames.
    /// - Parameters:
    ///   - schema: the keypoint slots labels must have; nil = the format's (COCO-17 or PoseTrack18).
    ///   - frameNames: file names of an image folder's frames, when the video is one.
    public init(path: String, frameCount: Int, schema: KeypointSchema? = nil, frameNames: [String]? = nil) throws {
        func bad(_ reason: String) -> PipelineError { .badInput("\(path): \(reason)") }
        let data: Data
        do { data = try InputFile.read(path) } catch {
            throw bad("cannot read labels file: \(error.reason)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) else { throw bad("labels file is not valid JSON") }

        var imageList: [[String: Any]]?
        let annotationList: [Any]
        let format: Format
        let document: [String: Any]?
        if let list = json as? [Any] {
            document = nil
            annotationList = list
            format = .coco
        } else if let dict = json as? [String: Any] {
            document = dict
            guard let list = dict["annotations"] as? [Any] else {
                throw bad("a labels document needs an \"annotations\" list (COCO keypoints or PoseTrack18)")
            }
            annotationList = list
            if let raw = dict["images"] {
                guard let list = raw as? [Any] else { throw bad("\"images\" must be a list") }
                imageList = try list.enumerated().map { i, item in
                    guard let image = item as? [String: Any] else { throw bad("images[\(i)]: not a JSON object") }
                    return image
                }
            }
            // PoseTrack18 images carry a frame id; COCO images do not (they may carry a video id).
            format = (imageList ?? []).contains { $0["frame_id"] != nil } ? .posetrack : .coco
        } else {
            throw bad("labels file must be a COCO keypoints document or list, or a PoseTrack18 video JSON")
        }

        let resolved = schema ?? (format == .posetrack ? .posetrack18 : .coco17)
        let joints = resolved.keypoints.count
        if let categories = document?["categories"] as? [[String: Any]],
           let person = categories.first(where: { ($0["id"] as? NSNumber)?.intValue ?? 1 == 1 }),
           let names = person["keypoints"] as? [Any], names.count != joints {
            throw bad("the person category lists \(names.count) keypoints but schema \(resolved.name) has \(joints)")
        }

        // Image id → frame.
        var imageFrame: [Int: Int] = [:]
        var imagesByFrame: [Int: [String: Any]] = [:]
        var labelledFromImages = Set<Int>()
        var ids: [Int] = []
        if let imageList {
            for (i, image) in imageList.enumerated() {
                guard let id = Self.integer(image["id"]) else { throw bad("images[\(i)]: \"id\" must be an integer") }
                ids.append(id)
            }
        } else {
            for (i, item) in annotationList.enumerated() {
                guard let a = item as? [String: Any] else { throw bad("annotations[\(i)]: not a JSON object") }
                guard let id = Self.integer(a["image_id"]) else { throw bad("annotations[\(i)]: \"image_id\" must be an integer") }
                ids.append(id)
            }
        }
        let nameIndex = Dictionary((frameNames ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        func frameOfName(_ name: String) -> Int? {
            let base = (name as NSString).lastPathComponent
            if let i = nameIndex[base] { return i }
            return frameNames == nil ? BoxesFile.leadingNumber(of: base) : nil
        }
        let names = imageList?.compactMap { $0["file_name"] as? String } ?? []
        let mapping: Mapping
        if let imageList, !imageList.isEmpty, names.count == imageList.count, names.allSatisfy({ frameOfName($0) != nil }) {
            mapping = .fileName
        } else if !ids.isEmpty, ids.allSatisfy(BoxesFile.isPoseTrackID) {
            mapping = .poseTrackID
        } else {
            mapping = .frameIndex
        }
        var poseTrackVideo: Int?
        if mapping == .poseTrackID || (!ids.isEmpty && ids.allSatisfy(BoxesFile.isPoseTrackID)) {
            let videos = Set(ids.map { ($0 / 10_000) % 1_000_000 })
            if videos.count > 1 {
                let listed = videos.sorted().prefix(5).map { String(format: "%06d", $0) }.joined(separator: ", ")
                throw bad("image ids cover \(videos.count) PoseTrack videos (\(listed)); give the labels of one video")
            }
            poseTrackVideo = videos.first
        }
        func frame(ofID id: Int, name: String?) -> Int {
            switch mapping {
            case .fileName: return frameOfName(name!)!
            case .poseTrackID: return id % 10_000
            case .frameIndex: return id
            }
        }
        func checkInVideo(_ frame: Int, _ what: String) throws {
            guard frame >= 0 && frame < frameCount else {
                throw bad("\(what) is frame \(frame), outside the video (frames 0…\(frameCount - 1))")
            }
        }
        if let imageList {
            for (i, image) in imageList.enumerated() {
                let f = frame(ofID: ids[i], name: image["file_name"] as? String)
                try checkInVideo(f, "images[\(i)] (id \(ids[i]))")
                if imageFrame[ids[i]] != nil { throw bad("images[\(i)]: image id \(ids[i]) appears twice") }
                if imagesByFrame[f] != nil { throw bad("images[\(i)]: a second image for frame \(f)") }
                imageFrame[ids[i]] = f
                imagesByFrame[f] = image
                if let l = image["is_labeled"] as? Bool, l { labelledFromImages.insert(f) }
                else if let l = image["is_labeled"] as? NSNumber, l.intValue != 0 { labelledFromImages.insert(f) }
            }
        }

        // Annotations.
        var byFrame: [Int: [Instance]] = [:]
        var withTracks = 0
        var count = 0
        for (i, item) in annotationList.enumerated() {
            func badAnnotation(_ reason: String) -> PipelineError { bad("annotations[\(i)]: \(reason)") }
            guard let a = item as? [String: Any] else { throw badAnnotation("not a JSON object") }
            if let c = a["category_id"], Self.integer(c) != 1 { continue }   // persons only (category 1)
            guard let imageID = Self.integer(a["image_id"]) else { throw badAnnotation("\"image_id\" must be an integer") }
            let f: Int
            if imageList != nil {
                guard let known = imageFrame[imageID] else { throw badAnnotation("image_id \(imageID) is not among the file's images") }
                f = known
            } else {
                f = frame(ofID: imageID, name: nil)
                try checkInVideo(f, "annotations[\(i)] (image_id \(imageID))")
            }
            guard let values = a["keypoints"] as? [Any] else { throw badAnnotation("needs \"keypoints\" [x, y, v, …]") }
            guard values.count == 3 * joints else {
                throw badAnnotation("\(values.count / 3) keypoints (\(values.count) values) but schema \(resolved.name) has \(joints)")
            }
            let numbers = values.compactMap { ($0 as? NSNumber)?.doubleValue }
            guard numbers.count == values.count, numbers.allSatisfy(\.isFinite) else { throw badAnnotation("\"keypoints\" must hold finite numbers") }
            let keypoints = (0..<joints).map { Array(numbers[3 * $0..<3 * $0 + 3]) }
            var box: PersonBox?
            if let raw = a["bbox"] {
                let b = (raw as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
                guard b.count == 4, b.allSatisfy(\.isFinite), b[2] >= 0, b[3] >= 0 else {
                    throw badAnnotation("\"bbox\" must be [x, y, w, h] with w, h ≥ 0")
                }
                if b[2] > 0 && b[3] > 0 { box = PersonBox(x: b[0], y: b[1], width: b[2], height: b[3]) }
            }
            if box == nil { box = Self.extent(keypoints) }
            var track = -1
            if let t = a["track_id"] {
                guard let id = Self.integer(t) else { throw badAnnotation("\"track_id\" must be an integer") }
                guard id >= 0 && id < PoseTracker.idLimit else {
                    throw badAnnotation("track_id \(id) is outside 0…\(PoseTracker.idLimit - 1) (PoseTrack's limit)")
                }
                track = id
                withTracks += 1
            }
            count += 1
            byFrame[f, default: []].append(Instance(trackID: track, box: box, keypoints: keypoints, annotation: a))
        }
        if withTracks != 0 && withTracks != count {
            throw bad("\(withTracks) of \(count) person annotations have a \"track_id\": give it on all of them or none")
        }
        let hasTrackIDs = count > 0 && withTracks == count
        let labelledFrames = Set(byFrame.keys).union(labelledFromImages).sorted()
        if hasTrackIDs {
            for (f, list) in byFrame {
                var seen = Set<Int>()
                for p in list where !seen.insert(p.trackID).inserted {
                    throw bad("frame \(f) has two persons with track_id \(p.trackID)")
                }
            }
        } else {
            Self.linkTracks(&byFrame, frames: labelledFrames)
        }
        (self.path, self.frameCount, self.format, self.schema, self.mapping) = (path, frameCount, format, resolved, mapping)
        (self.document, self.images, self.poseTrackVideo) = (document, imagesByFrame, poseTrackVideo)
        (self.labelledFrames, self.instances, self.hasTrackIDs) = (labelledFrames, byFrame, hasTrackIDs)
    }

    /// Track ids for labels without them: mmpose's greedy IoU matching between consecutive
    /// labelled frames (threshold `linkThreshold`); a person without a match starts a new track.
    static func linkTracks(_ byFrame: inout [Int: [Instance]], frames: [Int]) {
        let tracker = PoseTracker(method: .iou, threshold: linkThreshold)
        for f in frames {
            // A labelled frame without persons ends every track.
            var none: [PersonPose] = []
            guard var list = byFrame[f] else { tracker.assign(&none); continue }
            var poses = list.map { p in
                PersonPose(bbox: (p.box ?? PersonBox(x: 0, y: 0, width: 0, height: 0)).xywh, score: 1,
                           keypoints: p.keypoints)
            }
            tracker.assign(&poses)
            for i in list.indices { list[i].trackID = poses[i].trackID ?? i }
            byFrame[f] = list
        }
    }

    /// The box spanned by the labelled keypoints, or nil with fewer than two distinct ones.
    static func extent(_ keypoints: [[Double]]) -> PersonBox? {
        let labelled = keypoints.filter { $0[2] > 0 }
        guard let x0 = labelled.map({ $0[0] }).min(), let x1 = labelled.map({ $0[0] }).max(),
              let y0 = labelled.map({ $0[1] }).min(), let y1 = labelled.map({ $0[1] }).max(),
              x1 > x0 || y1 > y0 else { return nil }
        return PersonBox(x: x0, y: y0, width: max(x1 - x0, 1), height: max(y1 - y0, 1))
    }

    /// An integer JSON value (a number without fraction, or digits in a string).
    static func integer(_ value: Any?) -> Int? {
        if let n = value as? NSNumber {
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 9e15 ? n.intValue : nil
        }
        // Strings within the same range as numbers: ids are added to and compared (new ids after
        // the largest), which must not overflow.
        if let s = value as? String, let v = Int(s), v > -9_000_000_000_000_000 && v < 9_000_000_000_000_000 { return v }
        return nil
    }
}

import Foundation
import Keypoints

/// Ground truth: a COCO keypoints JSON (`images`, `annotations`, `categories`) or a PoseTrack18
/// per-video JSON (the same layout with `track_id`, `bbox_head`, `is_labeled`, ignore regions and no
/// `area` / `num_keypoints` / `iscrowd`). Only person annotations (category 1) are kept.
public struct GroundTruth: Sendable {
    /// One annotated image (a video frame).
    public struct Image: Sendable {
        public var id: Int
        public var fileName: String?
        public var width: Double?
        public var height: Double?
        /// PoseTrack's `is_labeled`; unlabelled frames are left out of every evaluation.
        public var isLabeled: Bool
        /// The video this frame belongs to: `vid_id`, else the PoseTrack video of the id, else the
        /// folder of `file_name`, else "" (one video).
        public var sequence: String
        /// Polygons whose inside is not evaluated (PoseTrack `ignore_regions_x`/`_y`), as (x, y) points.
        public var ignoreRegions: [[(x: Double, y: Double)]]
    }

    /// One annotated person.
    public struct Person: Sendable {
        public var id: Int
        public var imageID: Int
        /// x, y, v for each keypoint slot (v > 0: labelled).
        public var keypoints: [Double]
        /// x, y, width, height.
        public var bbox: [Double]
        /// PoseTrack's head box (x, y, width, height), when present.
        public var headBox: [Double]?
        /// COCO `area`; the box area when the file has none (PoseTrack).
        public var area: Double
        /// Whether the file gave `area` (mmpose drops persons whose given area is 0).
        public var hasArea: Bool
        public var isCrowd: Bool
        /// COCO `num_keypoints`; the count of labelled slots when the file has none.
        public var numKeypoints: Int
        public var trackID: Int?
    }

    /// The file read.
    public let path: String
    /// Images in file order.
    public let images: [Image]
    /// Person annotations in file order.
    public let persons: [Person]
    /// Keypoint slot names (the person category's `keypoints`, else COCO-17's when there are 17).
    public let keypointNames: [String]

    init(path: String, images: [Image], persons: [Person], keypointNames: [String]) {
        self.path = path
        self.images = images
        self.persons = persons
        self.keypointNames = keypointNames
    }

    /// Number of keypoint slots.
    public var keypointCount: Int { keypointNames.count }

    /// Reads and checks a ground-truth file.
    public init(path: String) throws {
        self.path = path
        let root = try JSONFields(try readJSON(path, what: "ground truth"), place: path)
        guard let imageList = try root.list("images") else {
            throw EvaluationError("\(path): ground truth needs \"images\" (COCO keypoints or PoseTrack18 JSON)")
        }
        guard let annotationList = try root.list("annotations") else {
            throw EvaluationError("\(path): ground truth needs \"annotations\" (COCO keypoints or PoseTrack18 JSON)")
        }

        var names: [String]?
        for (i, c) in (try root.list("categories") ?? []).enumerated() {
            let cat = try JSONFields(c, place: "\(path): categories[\(i)]")
            if (try cat.integer("id")) ?? 1 == 1, let list = cat.object["keypoints"] as? [String] { names = list }
        }

        let allPoseTrackIDs = !imageList.isEmpty && imageList.allSatisfy {
            guard let n = ($0 as? [String: Any])?["id"] as? NSNumber else { return false }
            return PoseTrackID.isPoseTrackID(n.intValue)
        }
        var images: [Image] = []
        var seenImages = Set<Int>()
        for (i, item) in imageList.enumerated() {
            let f = try JSONFields(item, place: "\(path): images[\(i)]")
            let id = try f.requiredInteger("id")
            guard seenImages.insert(id).inserted else { throw EvaluationError("\(path): images[\(i)]: duplicate image id \(id)") }
            let fileName = try f.string("file_name")
            var sequence = ""
            if let v = f.object["vid_id"] { sequence = "\(v)" }
            else if allPoseTrackIDs { sequence = String(format: "%06d", PoseTrackID.video(id)) }
            else if let fileName { sequence = (fileName as NSString).deletingLastPathComponent }
            var regions: [[(x: Double, y: Double)]] = []
            if let xs = try f.list("ignore_regions_x"), let ys = try f.list("ignore_regions_y") {
                guard xs.count == ys.count else { throw EvaluationError("\(path): images[\(i)]: ignore_regions_x and _y differ in length") }
                for (rx, ry) in zip(xs, ys) {
                    guard let px = rx as? [NSNumber], let py = ry as? [NSNumber], px.count == py.count else {
                        throw EvaluationError("\(path): images[\(i)]: ignore regions must be lists of numbers of equal length")
                    }
                    regions.append(zip(px, py).map { (x: $0.doubleValue, y: $1.doubleValue) })
                }
            }
            images.append(Image(id: id, fileName: fileName, width: try f.number("width"), height: try f.number("height"),
                                isLabeled: f.bool("is_labeled") ?? true, sequence: sequence, ignoreRegions: regions))
        }

        var persons: [Person] = []
        var seenPersons = Set<Int>()
        var slots = names?.count
        for (i, item) in annotationList.enumerated() {
            let place = "\(path): annotations[\(i)]"
            let f = try JSONFields(item, place: place)
            if let c = try f.integer("category_id"), c != 1 { continue }
            let id = try f.requiredInteger("id")
            guard seenPersons.insert(id).inserted else { throw EvaluationError("\(place): duplicate annotation id \(id)") }
            let imageID = try f.requiredInteger("image_id")
            guard seenImages.contains(imageID) else { throw EvaluationError("\(place): image_id \(imageID) is not in \"images\"") }
            guard let keypoints = try f.numbers("keypoints") else { throw EvaluationError("\(place): missing \"keypoints\"") }
            guard keypoints.count % 3 == 0, !keypoints.isEmpty else { throw EvaluationError("\(place): \"keypoints\" must hold x, y, v per slot") }
            if let s = slots, s * 3 != keypoints.count {
                throw EvaluationError("\(place): \(keypoints.count / 3) keypoints, but the file's persons have \(s)")
            }
            slots = keypoints.count / 3
            guard let bbox = try f.numbers("bbox", count: 4) else { throw EvaluationError("\(place): missing \"bbox\"") }
            let labelled = stride(from: 2, to: keypoints.count, by: 3).filter { keypoints[$0] > 0 }.count
            let area = try f.number("area")
            var crowd = false
            if f.has("iscrowd") {
                guard let n = f.object["iscrowd"] as? NSNumber else { throw EvaluationError("\(place): \"iscrowd\" must be 0 or 1") }
                crowd = n.doubleValue != 0
            }
            let num = try f.integer("num_keypoints")
            persons.append(Person(id: id, imageID: imageID, keypoints: keypoints, bbox: bbox,
                                  headBox: try f.numbers("bbox_head", count: 4), area: area ?? bbox[2] * bbox[3],
                                  hasArea: area != nil, isCrowd: crowd, numKeypoints: num ?? labelled,
                                  trackID: try f.integer("track_id")))
        }
        let count = slots ?? names?.count ?? 17
        if let names, names.count != count {
            throw EvaluationError("\(path): the person category names \(names.count) keypoints, the annotations hold \(count)")
        }
        self.images = images
        self.persons = persons
        self.keypointNames = names ?? (count == 17 ? KeypointSchema.coco17.keypoints : (0..<count).map { "keypoint_\($0)" })
    }

    /// The images that are evaluated: all but PoseTrack's unlabelled frames.
    public var labeledImages: [Image] { images.filter(\.isLabeled) }
}

/// PoseTrack image ids: a sequence-type digit (1 mpii, 2 bonn, 3 mpiinew), a 6-digit video id and a
/// 4-digit frame index.
enum PoseTrackID {
    static func isPoseTrackID(_ id: Int) -> Bool { id >= 10_000_000_000 && id < 40_000_000_000 }
    static func video(_ id: Int) -> Int { (id / 10_000) % 1_000_000 }
    static func frame(_ id: Int) -> Int { id % 10_000 }
}

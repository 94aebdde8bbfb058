import Failures
import Foundation

/// A person-boxes file: COCO detection results (mmpose `bbox_file`,
/// `[{"image_id", "bbox": [x,y,w,h], "score", "category_id"}]`) or the official PoseWarper form with
/// `"image_name"` instead of `image_id`, mapped to 0-based frame indices.
public struct BoxesFile: Sendable {
    /// How an entry's image reference becomes a frame index.
    public enum Mapping: String, Sendable {
        /// `image_id` is the 0-based frame index.
        case frameIndex = "frame"
        /// `image_id` follows PoseTrack: "1" + 6-digit video id + 4-digit frame index.
        case poseTrackID = "posetrack"
        /// `image_name`'s file name matches a frame file of an image folder, or its number is the index.
        case fileName = "filename"
    }

    /// Boxes per frame index, in file order.
    public let boxes: [Int: [PersonBox]]
    /// The mapping that was used.
    public let mapping: Mapping
    /// The file read.
    public let path: String
    /// The PoseTrack video whose boxes were taken (PoseTrack-id mapping only).
    public let videoID: Int?

    /// Reads `path` and maps its entries to frames.
    /// - Parameters:
    ///   - input: the video or folder being processed; its leading number picks the video in a
    ///     multi-video PoseTrack boxes file ("000001_mpiinew_test.mp4" → video 1).
    ///   - frameNames: file names of an image folder's frames in frame order, when the input is one.
    ///   - mapping: force a mapping; nil detects it (image_name → file name; 11-digit ids starting
    ///     with 1 → PoseTrack; otherwise frame index).
    public init(path: String, input: String, frameNames: [String]? = nil, mapping: Mapping? = nil,
                scoreThreshold: Double, nmsThreshold: Double?) throws {
        self.path = path
        let data: Data
        do { data = try InputFile.read(path) } catch {
            throw PipelineError.badInput("\(path): cannot read boxes file: \(error.reason)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) else {
            throw PipelineError.badInput("\(path): boxes file is not valid JSON")
        }
        guard let list = json as? [Any] else {
            throw PipelineError.badInput("\(path): boxes file must be a JSON list of {image_id|image_name, bbox, score, category_id}")
        }

        struct Entry { var id: Int?; var name: String?; var box: PersonBox }
        var entries: [Entry] = []
        entries.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            func bad(_ reason: String) -> PipelineError { .badInput("\(path): entry \(i): \(reason)") }
            guard let dict = item as? [String: Any] else { throw bad("not a JSON object") }
            guard let bbox = dict["bbox"] as? [Any], bbox.count >= 4 else { throw bad("\"bbox\" must be [x, y, w, h]") }
            let values = bbox.prefix(4).compactMap { ($0 as? NSNumber)?.doubleValue }
            guard values.count == 4, values.allSatisfy(\.isFinite) else { throw bad("\"bbox\" must hold 4 numbers") }
            guard values[2] >= 0, values[3] >= 0 else { throw bad("\"bbox\" width and height must not be negative") }
            var score = 1.0
            if let s = dict["score"] {
                guard let n = (s as? NSNumber)?.doubleValue, n.isFinite else { throw bad("\"score\" must be a number") }
                score = n
            }
            if let c = dict["category_id"] {
                guard let n = (c as? NSNumber)?.intValue else { throw bad("\"category_id\" must be an integer") }
                if n != 1 { continue }   // only persons (COCO category 1)
            }
            var entry = Entry(box: PersonBox(x: values[0], y: values[1], width: values[2], height: values[3], score: score))
            if let id = dict["image_id"] {
                if let n = id as? NSNumber, n.doubleValue == n.doubleValue.rounded() { entry.id = n.intValue }
                else if let s = id as? String, let n = Int(s) { entry.id = n }
                else if let s = id as? String, !s.isEmpty { entry.name = entry.name ?? s }   // an image file name
                else { throw bad("\"image_id\" must be an integer or an image file name") }
            }
            if let name = dict["image_name"] {
                guard let s = name as? String else { throw bad("\"image_name\" must be text") }
                entry.name = s
            }
            guard entry.id != nil || entry.name != nil else { throw bad("needs \"image_id\" or \"image_name\"") }
            entries.append(entry)
        }

        let chosen: Mapping
        if let mapping { chosen = mapping }
        else if !entries.isEmpty, entries.allSatisfy({ $0.name != nil }) { chosen = .fileName }
        else if !entries.isEmpty, entries.allSatisfy({ $0.id.map(BoxesFile.isPoseTrackID) ?? false }) { chosen = .poseTrackID }
        else { chosen = .frameIndex }
        self.mapping = chosen

        let nameIndex: [String: Int] = Dictionary((frameNames ?? []).enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var wantedVideo: Int?
        if chosen == .poseTrackID {
            let videos = Set(entries.compactMap { $0.id.map { ($0 / 10_000) % 1_000_000 } })
            let inputVideo = BoxesFile.leadingNumber(of: input)
            if let v = inputVideo, videos.contains(v) { wantedVideo = v }
            else if videos.count == 1 { wantedVideo = videos.first }
            else {
                let listed = videos.sorted().prefix(5).map { String(format: "%06d", $0) }.joined(separator: ", ")
                throw PipelineError.badInput("\(path): PoseTrack ids cover \(videos.count) videos (\(listed)…) and none matches the input name '\(BoxesFile.fileName(of: input))'")
            }
        }

        videoID = wantedVideo
        var byFrame: [Int: [PersonBox]] = [:]
        for (i, e) in entries.enumerated() {
            let frame: Int
            switch chosen {
            case .frameIndex:
                guard let id = e.id else { throw PipelineError.badInput("\(path): entry \(i): frame-index mapping needs \"image_id\"") }
                frame = id
            case .poseTrackID:
                guard let id = e.id, BoxesFile.isPoseTrackID(id) else {
                    throw PipelineError.badInput("\(path): entry \(i): \"image_id\" is not a PoseTrack id (1 + 6-digit video + 4-digit frame)")
                }
                if (id / 10_000) % 1_000_000 != wantedVideo { continue }
                frame = id % 10_000
            case .fileName:
                guard let name = e.name ?? e.id.map(String.init) else { continue }
                let base = BoxesFile.fileName(of: name)
                if let index = nameIndex[base] { frame = index }
                else if frameNames == nil, let n = BoxesFile.leadingNumber(of: base) { frame = n }
                else { continue }   // a frame of another video or folder in a shared boxes file
            }
            guard frame >= 0 else { throw PipelineError.badInput("\(path): entry \(i): negative frame index \(frame)") }
            if let s = e.box.score, s < scoreThreshold { continue }   // mmpose det_bbox_thr
            byFrame[frame, default: []].append(e.box)
        }
        if let t = nmsThreshold { byFrame = byFrame.mapValues { nonMaximumSuppression($0, threshold: t) } }
        boxes = byFrame
    }

    /// The last component of a slash-separated path ("images/val/000002.jpg" → "000002.jpg").
    /// (Foundation's `lastPathComponent` traps on some strings, e.g. many slashes around a "?",
    /// found by Tools/fuzz BoxesFileFuzz; file contents must never crash the reader.)
    static func fileName(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// PoseTrack frame ids are 11 digits: "1", a 6-digit video id, a 4-digit frame index.
    static func isPoseTrackID(_ id: Int) -> Bool { id >= 10_000_000_000 && id < 20_000_000_000 }

    /// The number a file name starts with ("000001_mpiinew_test.mp4" → 1, "000042.jpg" → 42).
    static func leadingNumber(of path: String) -> Int? {
        let name = fileName(of: path)
        let digits = name.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : Int(digits.prefix(18))
    }

    /// PoseTrack's frame id for `frame` of video `videoID`: "1" + 6-digit video id + 4-digit frame index.
    public static func poseTrackFrameID(video videoID: Int, frame: Int) -> Int {
        10_000_000_000 + (videoID % 1_000_000) * 10_000 + frame % 10_000
    }
}

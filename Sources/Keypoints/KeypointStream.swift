import Failures
import Foundation

/// One detected person in one frame: the unit of every keypoint output.
public struct PersonPose: Sendable, Equatable, Codable {
    /// Stable identity across frames (0 ≤ id < 10000, PoseTrack's limit), or nil when untracked.
    public var trackID: Int?
    /// Person box in image pixels: x, y (top-left), width, height.
    public var bbox: [Double]
    /// Detector confidence of the box, when it came from a detector or boxes file.
    public var bboxScore: Double?
    /// Pose confidence: the mean of the keypoint scores (mmpose's instance score without rescoring).
    public var score: Double
    /// One [x, y, score] per schema slot, in image pixels.
    public var keypoints: [[Double]]

    public init(trackID: Int? = nil, bbox: [Double], bboxScore: Double? = nil, score: Double, keypoints: [[Double]]) {
        self.trackID = trackID
        self.bbox = bbox
        self.bboxScore = bboxScore
        self.score = score
        self.keypoints = keypoints
    }

    enum CodingKeys: String, CodingKey {
        case trackID = "track_id", bbox, bboxScore = "bbox_score", score, keypoints
    }
}

extension PersonPose {
    /// mmpose's vis_thr: keypoints scoring above it count toward the rescored instance score.
    public static let defaultRescoreThreshold = 0.2

    /// mmpose's rescored instance score, as COCO and PoseTrack results carry it: the mean of the
    /// keypoint scores above `threshold` (vis_thr, 0.2 by default) times the box score.
    public func rescoredScore(threshold: Double = PersonPose.defaultRescoreThreshold) -> Double {
        let kept = keypoints.map { $0[2] }.filter { $0 > threshold }
        let mean = kept.isEmpty ? 0 : kept.reduce(0, +) / Double(kept.count)
        return mean * (bboxScore ?? 1)
    }
}

/// All persons of one video frame: one line of the JSON Lines keypoint stream.
public struct FrameKeypoints: Sendable, Equatable, Codable {
    /// 0-based frame index in presentation order.
    public var frame: Int
    /// Presentation time in seconds.
    public var time: Double
    /// The persons found in this frame (possibly none).
    public var persons: [PersonPose]

    public init(frame: Int, time: Double, persons: [PersonPose]) {
        self.frame = frame
        self.time = time
        self.persons = persons
    }
}

/// The optional first line of a keypoint stream: what the slots mean and what video they came from.
public struct KeypointStreamHeader: Sendable, Equatable, Codable {
    /// Schema description carried in the header.
    public struct Schema: Sendable, Equatable, Codable {
        public var name: String
        public var keypoints: [String]
        public var skeleton: [[Int]]
        public init(_ schema: KeypointSchema) {
            name = schema.name
            keypoints = schema.keypoints
            skeleton = schema.skeleton
        }
    }

    /// Source video facts carried in the header.
    public struct VideoInfo: Sendable, Equatable, Codable {
        public var width: Int
        public var height: Int
        public var fps: Double
        public var frames: Int?
        public init(width: Int, height: Int, fps: Double, frames: Int? = nil) {
            self.width = width
            self.height = height
            self.fps = fps
            self.frames = frames
        }
    }

    /// Which part of the input a segment's stream covers (`run --segment i/n`), so `merge` can
    /// order the parts, find gaps and overlaps, and continue track ids across the borders.
    public struct Segment: Sendable, Equatable, Codable {
        /// 0-based segment number and the number of segments.
        public var index: Int
        public var count: Int
        /// The frames this part covers: start ..< end.
        public var start: Int
        public var end: Int
        /// Frames of the whole input.
        public var sourceFrames: Int
        /// The run's tracking method ("iou", "oks", "none") and threshold, for matching across borders.
        public var tracking: String
        public var trackingThreshold: Double
        /// The input as the run named it: `merge` groups parts by it and never joins two inputs' parts.
        public var input: String?
        /// The segment's other outputs, relative to the stream's folder (absolute when the stream went
        /// to stdout): the files `merge --coco/--posetrack/--video` joins.
        public var coco: String?
        public var posetrack: String?
        public var video: String?
        public init(index: Int, count: Int, start: Int, end: Int, sourceFrames: Int, tracking: String, trackingThreshold: Double,
                    input: String? = nil) {
            self.index = index
            self.count = count
            self.start = start
            self.end = end
            self.sourceFrames = sourceFrames
            self.tracking = tracking
            self.trackingThreshold = trackingThreshold
            self.input = input
        }
        enum CodingKeys: String, CodingKey {
            case index, count, start, end, sourceFrames = "source_frames", tracking, trackingThreshold = "tracking_threshold"
            case input, coco, posetrack, video
        }
    }

    public var schema: Schema
    public var video: VideoInfo?
    /// Present only in a segment's stream.
    public var segment: Segment?

    public init(schema: KeypointSchema, video: VideoInfo?) {
        self.schema = Schema(schema)
        self.video = video
    }

    /// The known schema this header names, matched by name and slot names.
    public var knownSchema: KeypointSchema? {
        guard let s = KeypointSchema.named(schema.name), s.keypoints == schema.keypoints else { return nil }
        return s
    }
}

/// Errors reading a keypoint stream.
public enum KeypointStreamError: UserFacingError {
    case unreadable(path: String, reason: String)
    case malformedLine(path: String, line: Int, reason: String)

    /// A stream being read is an input.
    public var isInputProblem: Bool { true }

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read keypoint stream: \(reason)"
        case let .malformedLine(path, line, reason): return "\(path):\(line): not a keypoint stream line: \(reason)"
        }
    }
}

/// Encodes and decodes the product's JSON Lines keypoint stream (see README, "Keypoint stream").
public enum KeypointStream {
    /// Encodes a header as one line (no trailing newline).
    public static func encode(_ header: KeypointStreamHeader) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, ints and doubles cannot fail.
        return String(decoding: try! encoder.encode(header), as: UTF8.self)
    }

    /// Encodes a frame as one line (no trailing newline), keys in a fixed human-friendly order.
    public static func encode(_ frame: FrameKeypoints) -> String {
        var s = "{\"frame\":\(frame.frame),\"time\":\(number(frame.time)),\"persons\":["
        for (i, p) in frame.persons.enumerated() {
            if i > 0 { s += "," }
            s += "{"
            if let id = p.trackID { s += "\"track_id\":\(id)," }
            s += "\"bbox\":[" + p.bbox.map(number).joined(separator: ",") + "],"
            if let b = p.bboxScore { s += "\"bbox_score\":\(number(b)),"}
            s += "\"score\":\(number(p.score)),\"keypoints\":["
            s += p.keypoints.map { "[" + $0.map(number).joined(separator: ",") + "]" }.joined(separator: ",")
            s += "]}"
        }
        return s + "]}"
    }

    /// A finite number in JSON with at most 4 decimals; non-finite values (never expected) become 0
    /// so the line stays valid JSON. Every output's numbers are written by this one function.
    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return "0" }
        // Integers print without a fraction; beyond 1e15 (not exact in Int64 terms for JSON readers)
        // the shortest round-trip form, e.g. 1.1e+37.
        if abs(x) >= 1e15 { return "\(x)" }
        if x == x.rounded() { return String(Int64(x)) }
        // Four decimals is 1/10000 px: far below any keypoint's accuracy, and keeps lines short.
        let r = (x * 10000).rounded() / 10000
        return r == r.rounded() ? String(Int64(r)) : "\(r)"
    }

    /// One decoded line: the header or a frame.
    public enum Line: Sendable, Equatable {
        case header(KeypointStreamHeader)
        case frame(FrameKeypoints)
    }

    /// Decodes one line; `path` and `lineNumber` only name the place in errors.
    public static func decode(line: String, path: String = "<stream>", lineNumber: Int = 1) throws -> Line {
        let data = Data(line.utf8)
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "invalid JSON")
        }
        guard let dict = object as? [String: Any] else {
            throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "not a JSON object")
        }
        let decoder = JSONDecoder()
        do {
            if dict["frame"] == nil, dict["schema"] != nil {
                return .header(try decoder.decode(KeypointStreamHeader.self, from: data))
            }
            let frame = try decoder.decode(FrameKeypoints.self, from: data)
            for (i, p) in frame.persons.enumerated() {
                guard p.bbox.count == 4 else {
                    throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "persons[\(i)].bbox must be [x,y,w,h]")
                }
                if let k = p.keypoints.firstIndex(where: { $0.count != 3 }) {
                    throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "persons[\(i)].keypoints[\(k)] must be [x,y,score]")
                }
            }
            return .frame(frame)
        } catch let e as KeypointStreamError {
            throw e
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "missing \"\(pathText(ctx.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "wrong type at \"\(pathText(ctx.codingPath))\"")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "null at \"\(pathText(ctx.codingPath))\"")
        } catch {
            throw KeypointStreamError.malformedLine(path: path, line: lineNumber, reason: "\(error)")
        }
    }

    private static func pathText(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    /// Reads a whole stream file: the header (if any) and the frames in file order; blank lines are skipped.
    public static func read(path: String) throws -> (header: KeypointStreamHeader?, frames: [FrameKeypoints]) {
        let text: String
        do { text = try InputFile.text(path) } catch {
            throw KeypointStreamError.unreadable(path: path, reason: error.reason)
        }
        var header: KeypointStreamHeader?
        var frames: [FrameKeypoints] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            switch try decode(line: trimmed, path: path, lineNumber: i + 1) {
            case let .header(h):
                guard header == nil, frames.isEmpty else {
                    throw KeypointStreamError.malformedLine(path: path, line: i + 1, reason: "a header may only be the first line")
                }
                header = h
            case let .frame(f): frames.append(f)
            }
        }
        return (header, frames)
    }
}

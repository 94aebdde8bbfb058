import Keypoints

/// Where each tracked person's joints were over the last `length` frames, for drawing motion trails.
/// Fed one frame at a time, in order; persons without a track id have no trail (nothing links them
/// across frames). A track that leaves keeps its fading trail until its last position is `length`
/// frames old.
public final class MotionTrails {
    /// Frames of history behind the current one.
    public let length: Int
    /// Track id → (frame index, keypoints) for the frames it appeared in, oldest first.
    private var history: [Int: [(frame: Int, keypoints: [[Double]])]] = [:]
    private var lastFrame: Int?

    public init(length: Int) {
        self.length = max(0, length)
    }

    /// Records the persons of frame `index`; drops positions that fall out of the window.
    public func record(frame index: Int, persons: [PersonPose]) {
        // A jump backwards (a new range or source) starts over rather than join unrelated frames.
        if let last = lastFrame, index <= last { history = [:] }
        lastFrame = index
        for p in persons {
            guard let id = p.trackID else { continue }
            history[id, default: []].append((index, p.keypoints))
        }
        for (id, entries) in history {
            let kept = entries.filter { index - $0.frame <= length }
            history[id] = kept.isEmpty ? nil : kept
        }
    }

    /// One joint's trail: its positions (oldest first) with the frame each comes from.
    public struct Path: Equatable {
        public let trackID: Int
        public let joint: Int
        public let points: [(x: Double, y: Double, frame: Int)]
        public static func == (a: Path, b: Path) -> Bool {
            a.trackID == b.trackID && a.joint == b.joint && a.points.elementsEqual(b.points) { $0 == $1 }
        }
    }

    /// The trails to draw now: per track and joint, the positions scoring at least `threshold`, when
    /// there are two or more. Sorted by track id, then joint (a stable drawing order).
    public func paths(threshold: Double) -> [Path] {
        var result: [Path] = []
        for id in history.keys.sorted() {
            let entries = history[id]!
            let joints = entries.map(\.keypoints.count).max() ?? 0
            for j in 0..<joints {
                let points = entries.compactMap { e -> (x: Double, y: Double, frame: Int)? in
                    guard j < e.keypoints.count else { return nil }
                    let k = e.keypoints[j]
                    guard k.count >= 3, k[0].isFinite, k[1].isFinite, k[2] >= threshold else { return nil }
                    return (k[0], k[1], e.frame)
                }
                if points.count >= 2 { result.append(Path(trackID: id, joint: j, points: points)) }
            }
        }
        return result
    }

    /// The most recent frame recorded.
    public var currentFrame: Int? { lastFrame }
}

import Foundation
import Keypoints

/// Assigns track ids frame by frame (mmpose `get_track_id`): each person takes the id of the
/// previous frame's person it overlaps most (box IoU, or OKS of the keypoints) above a threshold,
/// else a new id. Matching is greedy over all pairs, best first, so two people whose boxes cross
/// keep their ids as long as each overlaps its own previous box more than the other's.
public final class PoseTracker {
    public let method: PipelineConfig.TrackingMethod
    public let threshold: Double
    private var previous: [PersonPose] = []
    private var nextID = 0

    /// PoseTrack's evaluation rejects track ids ≥ 10000.
    public static let idLimit = 10_000

    /// COCO keypoint sigmas (mmpose dataset_info; PoseTrack18 uses the same values) for OKS.
    static let sigmas: [Double] = [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
                                   0.107, 0.107, 0.087, 0.087, 0.089, 0.089]

    public init(method: PipelineConfig.TrackingMethod, threshold: Double) {
        self.method = method
        self.threshold = threshold
    }

    /// Sets `trackID` on every person of the next frame (nil for method none).
    public func assign(_ persons: inout [PersonPose]) {
        guard method != .none else {
            for i in persons.indices { persons[i].trackID = nil }
            return
        }
        let assigned = PoseTracker.match(persons, to: previous, method: method, threshold: threshold).map { $0.map { previous[$0].trackID } ?? nil }
        var inUse = Set(assigned.compactMap { $0 })
        for i in persons.indices {
            if let id = assigned[i] { persons[i].trackID = id; continue }
            persons[i].trackID = newID(avoiding: &inUse)
        }
        previous = persons
    }

    /// For each person of `current`, the index of the `previous` person whose track it continues
    /// (nil: a new track). Greedy over all pairs above `threshold`, best first; ties keep mmpose's
    /// order (current person order, then previous order). `merge` uses the same rule at segment borders.
    public static func match(_ current: [PersonPose], to previous: [PersonPose], method: PipelineConfig.TrackingMethod,
                             threshold: Double) -> [Int?] {
        var assigned = [Int?](repeating: nil, count: current.count)
        guard method != .none else { return assigned }
        var pairs: [(current: Int, previous: Int, similarity: Double)] = []
        for (c, person) in current.enumerated() {
            for (p, last) in previous.enumerated() {
                let s = method == .oks ? PoseTracker.oks(person, last) : PoseTracker.box(person).iou(PoseTracker.box(last))
                if s > threshold { pairs.append((c, p, s)) }
            }
        }
        pairs.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity
            : ($0.current, $0.previous) < ($1.current, $1.previous) }
        var taken = Set<Int>()
        for pair in pairs where assigned[pair.current] == nil && !taken.contains(pair.previous) {
            assigned[pair.current] = pair.previous
            taken.insert(pair.previous)
        }
        return assigned
    }

    /// The next free id; after 9999 ids wrap around to 0, skipping ids alive in this frame.
    private func newID(avoiding inUse: inout Set<Int>) -> Int {
        while inUse.contains(nextID % PoseTracker.idLimit) { nextID += 1 }
        let id = nextID % PoseTracker.idLimit
        nextID = id + 1
        inUse.insert(id)
        return id
    }

    static func box(_ p: PersonPose) -> PersonBox {
        PersonBox(x: p.bbox[0], y: p.bbox[1], width: p.bbox[2], height: p.bbox[3])
    }

    /// mmpose `oks_iou` between two poses, with the mean of their box areas as the object scale.
    static func oks(_ a: PersonPose, _ b: PersonPose) -> Double {
        let scale = (box(a).area + box(b).area) / 2 + 2.220446049250313e-16
        let n = min(a.keypoints.count, b.keypoints.count)
        guard n > 0 else { return 0 }
        var sum = 0.0
        for k in 0..<n {
            let sigma = k < sigmas.count ? sigmas[k] : 0.089
            let variance = (sigma * 2) * (sigma * 2)
            let dx = a.keypoints[k][0] - b.keypoints[k][0], dy = a.keypoints[k][1] - b.keypoints[k][1]
            sum += exp(-(dx * dx + dy * dy) / variance / scale / 2)
        }
        return sum / Double(n)
    }
}

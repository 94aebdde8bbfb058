import Foundation

/// How `posewarper propagate` carries labels to the unlabelled frames.
public enum PropagationMethod: String, Sendable, CaseIterable {
    /// PoseWarper's reversed application: the label heatmaps of the labelled frames warped to the
    /// target by the neck's deformable convolutions, then decoded.
    case warp
    /// Linear per track and joint between the labelled frames around the target.
    case interpolate
    /// The pose of the track in the nearest labelled frame.
    case copy
}

/// A pose carried into an unlabelled frame.
public struct PropagatedPose: Sendable, Equatable {
    /// The track of the labels it came from.
    public var trackID: Int
    /// The track's box in this frame (interpolated between the sources' boxes).
    public var box: PersonBox
    /// One [x, y, score] per schema slot; score 0 means no source labels the slot (x = y = 0).
    public var keypoints: [[Double]]
    /// Each slot's visibility flag, from the nearest source that labels it (0 = unlabelled).
    public var flags: [Double]

    /// The pose's score: the mean score of its propagated slots.
    public var score: Double {
        let s = keypoints.map { $0[2] }.filter { $0 > 0 }
        return s.isEmpty ? 0 : s.reduce(0, +) / Double(s.count)
    }
}

extension PropagationPlan.Task {
    /// The sources labelling slot `k` and their weights renormalised over them (empty if none).
    public func weights(joint k: Int) -> [(source: Int, weight: Double)] {
        let labelled = sources.indices.filter { sources[$0].instance.isLabelled(k) }
        let total = labelled.reduce(0) { $0 + sources[$1].weight }
        return labelled.map { ($0, sources[$0].weight / total) }
    }

    /// The nearest source labelling slot `k` (the earlier on a tie), or nil.
    func nearest(joint k: Int) -> PropagationPlan.Source? {
        sources.filter { $0.instance.isLabelled(k) }.min { $0.distance < $1.distance }
    }
}

/// The label-only methods, `copy` and `interpolate`; `warp` is `LabelWarper`.
public enum LabelPropagation {
    /// Score of a slot copied or interpolated from labels `distance` frames away: 1 at the labelled
    /// frame, falling linearly to 1 / (maxGap + 1) at the largest gap allowed.
    public static func distanceScore(_ distance: Int, maxGap: Int) -> Double {
        1 - Double(distance) / Double(maxGap + 1)
    }

    /// `copy`: the track's pose in its nearest source frame (the earlier on a tie).
    public static func copy(_ task: PropagationPlan.Task, joints: Int, maxGap: Int) -> PropagatedPose {
        let source = task.sources.min { $0.distance < $1.distance }!
        var pose = PropagatedPose(trackID: task.trackID, box: task.box,
                                  keypoints: Array(repeating: [0, 0, 0], count: joints), flags: Array(repeating: 0, count: joints))
        for k in 0..<joints where source.instance.isLabelled(k) {
            let p = source.instance.keypoints[k]
            pose.keypoints[k] = [p[0], p[1], distanceScore(source.distance, maxGap: maxGap)]
            pose.flags[k] = p[2]
        }
        return pose
    }

    /// `interpolate`: per slot, the sources labelling it averaged with their temporal weights
    /// (linear between two labelled frames; the one labelled side's position otherwise).
    public static func interpolate(_ task: PropagationPlan.Task, joints: Int, maxGap: Int) -> PropagatedPose {
        var pose = PropagatedPose(trackID: task.trackID, box: task.box,
                                  keypoints: Array(repeating: [0, 0, 0], count: joints), flags: Array(repeating: 0, count: joints))
        for k in 0..<joints {
            guard let nearest = task.nearest(joint: k) else { continue }
            var x = 0.0, y = 0.0
            for (i, w) in task.weights(joint: k) {
                x += w * task.sources[i].instance.keypoints[k][0]
                y += w * task.sources[i].instance.keypoints[k][1]
            }
            pose.keypoints[k] = [x, y, distanceScore(nearest.distance, maxGap: maxGap)]
            pose.flags[k] = nearest.instance.keypoints[k][2]
        }
        return pose
    }

    /// `copy` or `interpolate` over a whole plan: the poses per frame.
    public static func run(_ plan: PropagationPlan, method: PropagationMethod, joints: Int) -> [Int: [PropagatedPose]] {
        precondition(method != .warp, "warp needs the video and a model: use LabelWarper")
        return plan.tasks.mapValues { tasks in
            tasks.map { method == .copy ? copy($0, joints: joints, maxGap: plan.maxGap) : interpolate($0, joints: joints, maxGap: plan.maxGap) }
        }
    }
}

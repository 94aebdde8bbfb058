import Foundation

/// What `posewarper propagate` has to do: for every unlabelled frame, the tracks to carry into it,
/// each with its labelled sources (the track's instance in the nearest labelled frame before and
/// after, when within the gap) and its box interpolated between them.
public struct PropagationPlan {
    /// One labelled instance a propagated pose is taken from.
    public struct Source {
        public var frame: Int
        public var instance: LabelsFile.Instance
        /// Frames between the source and the target (≥ 1).
        public var distance: Int
        /// Share of this source in the target (inverse temporal distance, summing to 1 over the
        /// task's sources: linear interpolation when there are two).
        public var weight: Double
    }

    /// One track to carry into one unlabelled frame.
    public struct Task {
        public var frame: Int
        public var trackID: Int
        /// One or two sources, earlier first.
        public var sources: [Source]
        /// The track's box at `frame`, interpolated per coordinate with the sources' weights.
        public var box: PersonBox
    }

    /// Tasks per unlabelled frame (frames with nothing to propagate are absent), tracks ascending.
    public let tasks: [Int: [Task]]
    public let maxGap: Int

    /// Plans propagation from `labels` into frames at most `maxGap` frames from a labelled instance
    /// of the same track. A side counts only through the labelled frame next to the target on that
    /// side: a track absent there (the person left or is not yet in view) gets nothing from that side.
    public init(_ labels: LabelsFile, maxGap: Int) {
        self.maxGap = maxGap
        let labelled = labels.labelledFrames
        var tasks: [Int: [Task]] = [:]
        let isLabelled = Set(labelled)
        for t in 0..<labels.frameCount where !isLabelled.contains(t) {
            // The labelled frames next to t (binary search over the sorted list).
            var lo = 0, hi = labelled.count
            while lo < hi { let mid = (lo + hi) / 2; if labelled[mid] < t { lo = mid + 1 } else { hi = mid } }
            let before = lo > 0 ? labelled[lo - 1] : nil
            let after = lo < labelled.count ? labelled[lo] : nil
            var byTrack: [Int: [(Int, LabelsFile.Instance)]] = [:]
            for side in [before, after].compactMap({ $0 }) where abs(side - t) <= maxGap {
                for p in labels.instances[side] ?? [] where p.box != nil { byTrack[p.trackID, default: []].append((side, p)) }
            }
            for track in byTrack.keys.sorted() {
                let sides = byTrack[track]!
                let inverse = sides.map { 1.0 / Double(abs($0.0 - t)) }
                let total = inverse.reduce(0, +)
                let sources = zip(sides, inverse).map { side, w in
                    Source(frame: side.0, instance: side.1, distance: abs(side.0 - t), weight: w / total)
                }
                tasks[t, default: []].append(Task(frame: t, trackID: track, sources: sources, box: Self.blend(sources)))
            }
        }
        self.tasks = tasks
    }

    /// The sources' boxes, each coordinate weighted.
    static func blend(_ sources: [Source]) -> PersonBox {
        var v = [0.0, 0, 0, 0]
        for s in sources {
            for (i, c) in s.instance.box!.xywh.enumerated() { v[i] += s.weight * c }
        }
        return PersonBox(x: v[0], y: v[1], width: v[2], height: v[3])
    }
}

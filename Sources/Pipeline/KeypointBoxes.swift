import Foundation
import Keypoints

/// Person boxes made from tracked keypoints, passed back from the tracking stage to the detector
/// stage (the pipeline's one feedback path) for the frames the detector skips (`every_n_frames`).
///
/// Ordering: the tracking stage records every output frame, in frame order, right after assigning
/// its ids; the detector stage asks for a frame it has already passed on and waits until it is
/// recorded. A frame leaves the network stage only once the frames after it that its temporal
/// window needs have arrived (and at most `PoseEstimationStage.heldFrames` more, queued to run
/// necks side by side), so the detector stage asks for the frame `lag` frames back (1 + the
/// window's look-ahead + those held): that frame's keypoints can be finished without anything waiting on the
/// detector stage, and waiting for them keeps every run's boxes — and outputs — the same at any
/// speed and thread count. `close()` (the tracking stage stopped: end, cancel or failure) wakes
/// every waiter.
public final class KeypointBoxes: @unchecked Sendable {   // state guarded by `condition`
    /// Keypoints scoring at least this span the box (mmpose's kpt_thr 0.3).
    public let keypointThreshold: Double
    /// Box size relative to the keypoints' extent, about its centre (rtmlib's `pose_to_bbox` 1.25).
    public let expansion: Double

    private let condition = NSCondition()
    private var recorded: [Int: [PersonBox]] = [:]
    private var closed = false

    public init(keypointThreshold: Double = 0.3, expansion: Double = 1.25) {
        self.keypointThreshold = keypointThreshold
        self.expansion = expansion
    }

    /// The box of one person's keypoints: those scoring at least the threshold (nil when fewer than
    /// two do), expanded about their centre; the person's detector score carries over.
    public func box(of person: PersonPose) -> PersonBox? {
        let points = person.keypoints.filter { $0.count >= 3 && $0[2] >= keypointThreshold && $0[0].isFinite && $0[1].isFinite }
        guard points.count >= 2 else { return nil }
        let x0 = points.map { $0[0] }.min()!, x1 = points.map { $0[0] }.max()!
        let y0 = points.map { $0[1] }.min()!, y1 = points.map { $0[1] }.max()!
        let w = (x1 - x0) * expansion, h = (y1 - y0) * expansion
        guard w > 0, h > 0 else { return nil }
        return PersonBox(x: (x0 + x1) / 2 - w / 2, y: (y0 + y1) / 2 - h / 2, width: w, height: h, score: person.bboxScore)
    }

    /// Records a tracked output frame's persons (tracking stage).
    public func record(frame: Int, persons: [PersonPose]) {
        let boxes = persons.compactMap(box(of:))
        condition.lock()
        recorded[frame] = boxes
        condition.broadcast()
        condition.unlock()
    }

    /// The boxes of `frame`'s keypoints, waiting until the tracking stage recorded them; nil when it
    /// stopped first (the run is ending). Forgets `frame` and every frame before it.
    public func boxes(frame: Int) -> [PersonBox]? {
        condition.lock()
        defer { condition.unlock() }
        while recorded[frame] == nil && !closed { condition.wait() }
        let boxes = recorded[frame]
        recorded = recorded.filter { $0.key > frame }
        return boxes
    }

    /// Forgets `frame` and every frame before it without waiting (frames the detector stage will
    /// not ask for, so the memory stays bounded).
    public func forget(through frame: Int) {
        condition.lock()
        recorded = recorded.filter { $0.key > frame }
        condition.unlock()
    }

    /// No more frames will be recorded.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

import Keypoints

/// Assigns track ids to one frame's persons, given the frames before it in order.
public protocol PoseTracking: AnyObject {
    func assign(_ persons: inout [PersonPose])
}

extension PoseTracker: PoseTracking {}

/// The tracking stage. It runs after keypoint decoding because OKS matching compares keypoints,
/// and in frame order because each frame's ids depend on the previous frame's final poses.
public final class TrackingStage: PipelineStage {
    public let name = "tracking"
    public let tracker: PoseTracking
    /// Where each output frame's keypoint boxes go for the detector stage (`every_n_frames` > 1).
    public let keypointBoxes: KeypointBoxes?

    public init(_ tracker: PoseTracking, keypointBoxes: KeypointBoxes? = nil) {
        self.tracker = tracker
        self.keypointBoxes = keypointBoxes
    }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        var frame = frame
        tracker.assign(&frame.persons)
        if frame.isOutput { keypointBoxes?.record(frame: frame.frame.index, persons: frame.persons) }
        return [frame]
    }

    /// Nothing more will be recorded: a detector stage waiting for keypoints stops waiting.
    public func stopped() { keypointBoxes?.close() }
}

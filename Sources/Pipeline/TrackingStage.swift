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

    public init(_ tracker: PoseTracking) { self.tracker = tracker }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        var frame = frame
        tracker.assign(&frame.persons)
        return [frame]
    }
}

import Keypoints

/// The smoothing stage: per track and joint, after tracking (it follows track ids) and before the
/// outputs. Windowed methods hold `method.latency` frames back (their pictures too, so the
/// annotated video shows the smoothed poses on the right frames); memory stays bounded by that.
public final class SmoothingStage: PipelineStage {
    public let name = "smoothing"
    let smoother: KeypointSmoother
    /// Frames given to the smoother and not yet released, in order.
    private var held: [PipelineFrame] = []

    public init(method: SmoothingMethod, scoreThreshold: Double) {
        smoother = KeypointSmoother(method: method, scoreThreshold: scoreThreshold)
    }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        held.append(frame)
        return release(smoother.push(FrameKeypoints(frame: frame.frame.index, time: frame.frame.time, persons: frame.persons)))
    }

    public func flush() throws -> [PipelineFrame] { release(smoother.finish()) }

    /// The smoother releases frames in the order they went in: pair them with the held frames.
    private func release(_ smoothed: [FrameKeypoints]) -> [PipelineFrame] {
        precondition(smoothed.count <= held.count, "the smoother released more frames than it was given")
        var out: [PipelineFrame] = []
        for keypoints in smoothed {
            var frame = held.removeFirst()
            frame.persons = keypoints.persons
            out.append(frame)
        }
        return out
    }
}

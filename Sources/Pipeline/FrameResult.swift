import Keypoints
import Video

/// One finished frame on its way to the outputs.
public struct FrameResult {
    /// The persons found, with track ids, in the keypoint stream's form.
    public var keypoints: FrameKeypoints
    /// The decoded picture (for the annotated video).
    public var image: VideoFrame

    public init(keypoints: FrameKeypoints, image: VideoFrame) {
        self.keypoints = keypoints
        self.image = image
    }
}

/// A finite number as JSON, at most 4 decimals (the keypoint stream's writer, for every output).
func jsonNumber(_ x: Double) -> String { KeypointStream.number(x) }

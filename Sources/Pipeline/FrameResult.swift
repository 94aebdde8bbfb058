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

/// A finite number as JSON, at most 4 decimals (as the keypoint stream writes numbers).
func jsonNumber(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    let r = (x * 10000).rounded() / 10000
    return r == r.rounded() ? String(Int64(r)) : "\(r)"
}

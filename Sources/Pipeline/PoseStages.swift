import Models
import Tensors
import Video

/// Where a crop came from: mmpose's center and scale (units of 200 px, float32 like mmpose), which
/// map heatmap coordinates back to the image.
public typealias CropTransform = TopDownGeometry.Crop

/// The crop stage (mmpose TopDownAffine + NormalizeTensor): a box's crop of a frame as network input.
public protocol CropStage: AnyObject {
    var inputWidth: Int { get }
    var inputHeight: Int { get }
    /// Center/scale for a box (padding and aspect-ratio fix).
    func transform(for box: PersonBox) -> CropTransform
    /// Writes the normalised [3, inputHeight, inputWidth] crop of `frame` into `into`.
    func crop(_ frame: VideoFrame, _ transform: CropTransform, into: UnsafeMutablePointer<Float>)
}

/// The network stage, split so per-frame work can be cached: `encode` runs once per crop (backbone
/// features for PoseWarper, heatmaps for a top-down model), `heatmaps` combines one window's
/// encodings (PoseWarper's neck; identity for top-down).
public protocol PoseNetwork: AnyObject {
    /// [N, 3, H, W] crops → [N, …] per-crop encodings.
    func encode(_ crops: Tensor) -> Tensor
    /// Per-offset encodings (current frame first, each [P, …]) → heatmaps [P, K, h, w]; called for
    /// several windows at once from different threads (`PoseEstimationStage.concurrentWindows`).
    func heatmaps(from encodings: [Tensor]) -> Tensor
}

/// The keypoint-decoding stage: heatmaps back to image coordinates.
public protocol KeypointDecodingStage: AnyObject {
    /// Heatmaps [P, K, h, w] and each person's crop → per person, per keypoint [x, y, score].
    func decode(_ heatmaps: Tensor, transforms: [CropTransform]) -> [[[Double]]]
}

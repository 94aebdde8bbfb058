import Foundation
import Tensors

/// Heatmaps drawn from keypoint labels, as a network's training targets look: one unnormalised
/// Gaussian (peak 1) per labelled keypoint, at heatmap resolution in a crop's frame; unlabelled
/// keypoints leave their channel zero.
///
/// The centre is the label's exact position in the heatmap — the inverse of the decoder's
/// `transformPreds` — not rounded to the nearest pixel as mmpose's training targets are, so a
/// decoded label heatmap gives the label back to within the decoder's own precision.
public enum LabelHeatmaps {
    /// A point in image pixels → heatmap coordinates of `crop` (inverse of `TopDownGeometry.transformPreds`).
    public static func heatmapPoint(x: Double, y: Double, crop: TopDownGeometry.Crop, heatmapWidth: Int, heatmapHeight: Int) -> (x: Double, y: Double) {
        let sw = Double(crop.scale.w * 200), sh = Double(crop.scale.h * 200)
        let left = Double(crop.center.x) - sw * 0.5, top = Double(crop.center.y) - sh * 0.5
        return ((x - left) * Double(heatmapWidth) / sw, (y - top) * Double(heatmapHeight) / sh)
    }

    /// [K, h, w] label heatmaps of one person: `keypoints` are [x, y, flag] in image pixels
    /// (flag > 0 = labelled), `sigma` in heatmap pixels.
    public static func render(keypoints: [[Double]], crop: TopDownGeometry.Crop, width: Int, height: Int, sigma: Double) -> Tensor {
        var maps = Tensor(shape: [keypoints.count, height, width], repeating: 0)
        maps.withUnsafeMutableBufferPointer { out in
            let denominator = 2 * sigma * sigma
            for (j, p) in keypoints.enumerated() where p[2] > 0 {
                let mu = heatmapPoint(x: p[0], y: p[1], crop: crop, heatmapWidth: width, heatmapHeight: height)
                let gx = (0..<width).map { exp(-(Double($0) - mu.x) * (Double($0) - mu.x) / denominator) }
                for yy in 0..<height {
                    let dy = Double(yy) - mu.y
                    let gy = exp(-dy * dy / denominator)
                    for xx in 0..<width { out[(j * height + yy) * width + xx] = Float(gy * gx[xx]) }
                }
            }
        }
        return maps
    }
}

/// A person box in image pixels (x, y of the top-left corner, width, height) with its detector score.
public struct PersonBox: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    /// Detector confidence, or nil for boxes that are not detections (whole frame).
    public var score: Double?

    public init(x: Double, y: Double, width: Double, height: Double, score: Double? = nil) {
        (self.x, self.y, self.width, self.height, self.score) = (x, y, width, height, score)
    }

    /// [x, y, w, h], the keypoint stream's and COCO's box form.
    public var xywh: [Double] { [x, y, width, height] }
    public var area: Double { max(0, width) * max(0, height) }

    /// Intersection over union (mmpose `_compute_iou`: a zero union counts as 1e-5).
    public func iou(_ other: PersonBox) -> Double {
        let ix = max(0, min(x + width, other.x + other.width) - max(x, other.x))
        let iy = max(0, min(y + height, other.y + other.height) - max(y, other.y))
        let inter = ix * iy
        var union = area + other.area - inter
        if union == 0 { union = 1e-5 }
        return inter / union
    }
}

/// Greedy box non-maximum suppression: keep the highest-scoring box, drop boxes overlapping it by
/// more than `threshold` IoU, repeat. Returns the kept boxes, highest score first.
public func nonMaximumSuppression(_ boxes: [PersonBox], threshold: Double) -> [PersonBox] {
    let order = boxes.indices.sorted { (boxes[$0].score ?? 0) > (boxes[$1].score ?? 0) }
    var kept: [PersonBox] = []
    for i in order where !kept.contains(where: { $0.iou(boxes[i]) > threshold }) {
        kept.append(boxes[i])
    }
    return kept
}

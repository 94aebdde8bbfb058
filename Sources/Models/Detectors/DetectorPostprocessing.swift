import Foundation
import Tensors

/// One detected person: corners (x1, y1, x2, y2) in pixels and the score.
public struct Detection: Equatable, Sendable {
    public var x1: Float, y1: Float, x2: Float, y2: Float
    public var score: Float
    public init(x1: Float, y1: Float, x2: Float, y2: Float, score: Float) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2; self.score = score
    }
    public var width: Float { x2 - x1 }
    public var height: Float { y2 - y1 }
}

@inline(__always) private func sigmoid(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }

/// Person boxes in network-input pixels from the raw head outputs of image `index` of the batch:
/// YOLOX: score = σ(obj)·σ(cls) of the best class, kept when that class is the person class and
/// score ≥ threshold; box centre (d + grid)·stride, size exp(d)·stride. RTMDet: score = σ(cls[person])
/// (multi-label), kept when > threshold; box = prior point ∓ distances (exp first when set) · stride,
/// clamped to the input, empty boxes dropped. Then greedy NMS and the top `maxDetections`.
public func decodePersons(_ levels: [DetectorLevelOutput], family: DetectorDescription.Family, settings s: DetectorSettings,
                          index: Int = 0) -> [Detection] {
    var candidates: [Detection] = []
    for level in levels {
        let classes = level.classes.shape[1], h = level.classes.shape[2], w = level.classes.shape[3], plane = h * w
        let stride = Float(level.stride)
        let cls = level.classes.storage, reg = level.boxes.storage
        let cBase = index * classes * plane, rBase = index * 4 * plane
        for y in 0..<h {
            for x in 0..<w {
                let p = y * w + x
                let d = (0..<4).map { reg[rBase + $0 * plane + p] }
                switch family {
                case .yolox:
                    var best = -Float.infinity, label = 0
                    for c in 0..<classes where cls[cBase + c * plane + p] > best { best = cls[cBase + c * plane + p]; label = c }
                    guard label == s.personClass, let obj = level.objectness else { continue }
                    let score = sigmoid(obj.storage[index * plane + p]) * sigmoid(best)
                    guard score >= s.scoreThreshold else { continue }
                    let cx = (d[0] + Float(x)) * stride, cy = (d[1] + Float(y)) * stride
                    let bw = Foundation.exp(d[2]) * stride, bh = Foundation.exp(d[3]) * stride
                    candidates.append(Detection(x1: cx - bw / 2, y1: cy - bh / 2, x2: cx + bw / 2, y2: cy + bh / 2, score: score))
                case .rtmdet:
                    let score = sigmoid(cls[cBase + s.personClass * plane + p])
                    guard score > s.scoreThreshold else { continue }
                    let dist = d.map { (s.expOnRegression ? Foundation.exp($0) : $0) * stride }
                    let px = Float(x) * stride, py = Float(y) * stride
                    let maxX = Float(s.inputWidth), maxY = Float(s.inputHeight)
                    let box = Detection(x1: min(max(px - dist[0], 0), maxX), y1: min(max(py - dist[1], 0), maxY),
                                        x2: min(max(px + dist[2], 0), maxX), y2: min(max(py + dist[3], 0), maxY), score: score)
                    guard box.x2 > box.x1 && box.y2 > box.y1 else { continue }
                    candidates.append(box)
                }
            }
        }
    }
    return nonMaximumSuppression(candidates, threshold: s.nmsThreshold, limit: s.maxDetections)
}

/// Greedy NMS as torchvision's: by descending score (ties keep input order), drop every box whose
/// IoU (areas without +1, computed in Double) with a kept box exceeds `threshold`; at most `limit` kept.
public func nonMaximumSuppression(_ boxes: [Detection], threshold: Float, limit: Int = .max) -> [Detection] {
    let order = boxes.indices.sorted { boxes[$0].score != boxes[$1].score ? boxes[$0].score > boxes[$1].score : $0 < $1 }
    var kept: [Detection] = []
    var removed = [Bool](repeating: false, count: boxes.count)
    func area(_ b: Detection) -> Double { (Double(b.x2) - Double(b.x1)) * (Double(b.y2) - Double(b.y1)) }
    for (rank, i) in order.enumerated() where !removed[i] {
        let a = boxes[i]
        kept.append(a)
        if kept.count == limit { break }
        for j in order[(rank + 1)...] where !removed[j] {
            let b = boxes[j]
            let iw = max(0, min(Double(a.x2), Double(b.x2)) - max(Double(a.x1), Double(b.x1)))
            let ih = max(0, min(Double(a.y2), Double(b.y2)) - max(Double(a.y1), Double(b.y1)))
            let inter = iw * ih
            if inter / (area(a) + area(b) - inter) > Double(threshold) { removed[j] = true }
        }
    }
    return kept
}

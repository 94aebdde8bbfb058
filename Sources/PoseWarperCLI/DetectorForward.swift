import Checkpoints
import Foundation
import Models
import Tensors

/// `posewarper forward` on a detector checkpoint: the raw head outputs of every level in one array,
/// [N, 4 (+1 objectness for YOLOX) + classes, Σ h·w] — per level the channels box regression,
/// objectness, class logits (Megvii's `cat([reg, obj, cls])` before its sigmoids), positions row-major,
/// levels in stride order 8, 16, 32.
enum DetectorForward {
    /// True when `weights` holds a YOLOX or RTMDet detector.
    static func isDetector(_ weights: String) throws -> Bool {
        if case .detector? = ModelFamilies.identify(try Checkpoint.load(weights).entries.map(\.name)) { return true }
        return false
    }

    static func run(weights: String, input x: Tensor) throws -> Tensor {
        let model = try DetectorModel.load(weights: weights)
        let m = model.description.inputMultiple
        guard x.rank == 4, x.shape[0] > 0, x.shape[1] == 3, x.shape[2] > 0, x.shape[3] > 0, x.shape[2] % m == 0, x.shape[3] % m == 0 else {
            throw ModelError("detector input must be N×3×H×W with H and W positive multiples of \(m), got shape \(x.shape)")
        }
        if let bad = x.storage.firstIndex(where: { !$0.isFinite }) { throw ModelError("input element \(bad) is not finite") }
        let levels = model.forward(x)
        let n = x.shape[0]
        let channels = 4 + (levels[0].objectness == nil ? 0 : 1) + levels[0].classes.shape[1]
        let total = levels.reduce(0) { $0 + $1.classes.shape[2] * $1.classes.shape[3] }
        var out = Tensor(shape: [n, channels, total])
        var offset = 0
        for level in levels {
            let plane = level.classes.shape[2] * level.classes.shape[3]
            let pieces = [level.boxes, level.objectness, level.classes].compactMap { $0 }
            for i in 0..<n {
                var c = 0
                for piece in pieces {
                    let k = piece.shape[1]
                    for j in 0..<k {
                        for p in 0..<plane { out.storage[(i * channels + c + j) * total + offset + p] = piece.storage[(i * k + j) * plane + p] }
                    }
                    c += k
                }
            }
            offset += plane
        }
        return out
    }
}

import Foundation
import Tensors

/// One decoded keypoint: image coordinates and the heatmap maximum as score.
public struct DecodedKeypoint: Sendable, Equatable {
    public var x: Float
    public var y: Float
    public var score: Float
}

/// mmpose 0.x `keypoints_from_heatmaps` (no UDP) and the flip-test helpers.
public struct HeatmapDecoder: Sendable {
    /// `post_process`: none (argmax only), default (quarter-pixel shift), unbiased (DARK).
    public enum PostProcess: String, Sendable, CaseIterable { case none, `default`, unbiased }

    public var postProcess: PostProcess
    /// Gaussian modulation kernel of DARK (mmpose `modulate_kernel`, 11 for sigma 2).
    public var kernel: Int

    public init(postProcess: PostProcess = .default, kernel: Int = 11) {
        precondition(kernel > 0 && kernel % 2 == 1, "the modulation kernel must be odd, got \(kernel)")
        self.postProcess = postProcess
        self.kernel = kernel
    }

    /// Heatmaps [N, K, h, w] and one crop per sample → keypoints in image pixels [N][K].
    public func decode(_ heatmaps: Tensor, crops: [TopDownGeometry.Crop]) -> [[DecodedKeypoint]] {
        precondition(heatmaps.rank == 4 && heatmaps.shape[0] == crops.count, "heatmaps \(heatmaps.shape) for \(crops.count) crops")
        let (n, k, h, w) = (heatmaps.shape[0], heatmaps.shape[1], heatmaps.shape[2], heatmaps.shape[3])
        let plane = h * w
        return heatmaps.withUnsafeBufferPointer { all in
            (0..<n).map { a in
                (0..<k).map { b in
                    let map = UnsafeBufferPointer(rebasing: all[(a * k + b) * plane..<(a * k + b + 1) * plane])
                    var (px, py, score) = Self.argmax(map, width: w)
                    switch postProcess {
                    case .none: break
                    case .default: (px, py) = Self.quarterShift(map, width: w, height: h, x: px, y: py)
                    case .unbiased: (px, py) = Self.dark(map, width: w, height: h, x: px, y: py, kernel: kernel)
                    }
                    let p = TopDownGeometry.transformPreds(x: px, y: py, crop: crops[a], heatmapWidth: w, heatmapHeight: h)
                    return DecodedKeypoint(x: p.x, y: p.y, score: score)
                }
            }
        }
    }

    /// mmpose `_get_max_preds` for one map: first maximum; (−1, −1) when the maximum is ≤ 0.
    static func argmax(_ map: UnsafeBufferPointer<Float>, width: Int) -> (Float, Float, Float) {
        var best = 0
        var value = map[0]
        for i in 1..<map.count where map[i] > value {
            value = map[i]
            best = i
        }
        // NaN never wins a `>` comparison; a NaN first element would stay, as np.argmax returns it.
        if !(value > 0) { return (-1, -1, value) }
        return (Float(best % width), Float(best / width), value)
    }

    /// mmpose 'default': ±0.25 toward the larger neighbour, only when 1 < x < w−1 and 1 < y < h−1.
    static func quarterShift(_ map: UnsafeBufferPointer<Float>, width w: Int, height h: Int, x: Float, y: Float) -> (Float, Float) {
        let px = Int(x), py = Int(y)
        guard 1 < px && px < w - 1 && 1 < py && py < h - 1 else { return (x, y) }
        let dx = map[py * w + px + 1] - map[py * w + px - 1]
        let dy = map[(py + 1) * w + px] - map[(py - 1) * w + px]
        return (x + sign(dx) * 0.25, y + sign(dy) * 0.25)
    }

    private static func sign(_ v: Float) -> Float { v > 0 ? 1 : (v < 0 ? -1 : 0) }

    /// mmpose 'unbiased' (DARK): Gaussian modulation (`_gaussian_blur`), log, then one Newton step
    /// of the Taylor expansion (`_taylor`) when 1 < x < w−2 and 1 < y < h−2.
    static func dark(_ map: UnsafeBufferPointer<Float>, width w: Int, height h: Int, x: Float, y: Float, kernel: Int) -> (Float, Float) {
        let px = Int(x), py = Int(y)
        guard 1 < px && px < w - 2 && 1 < py && py < h - 2 else { return (x, y) }
        let logMap = modulatedLog(map, width: w, height: h, kernel: kernel)
        func at(_ yy: Int, _ xx: Int) -> Float { logMap[yy * w + xx] }
        // float32 arithmetic, as numpy does on float32 scalars.
        let dx: Float = 0.5 * (at(py, px + 1) - at(py, px - 1))
        let dy: Float = 0.5 * (at(py + 1, px) - at(py - 1, px))
        let dxx: Float = 0.25 * (at(py, px + 2) - 2 * at(py, px) + at(py, px - 2))
        let dxy: Float = 0.25 * (at(py + 1, px + 1) - at(py - 1, px + 1) - at(py + 1, px - 1) + at(py - 1, px - 1))
        let dyy: Float = 0.25 * (at(py + 2, px) - 2 * at(py, px) + at(py - 2, px))
        let det = dxx * dyy - dxy * dxy
        guard det != 0 else { return (x, y) }
        // offset = −H⁻¹ · ∇
        let ox = -(dyy * dx - dxy * dy) / det
        let oy = -(-dxy * dx + dxx * dy) / det
        return (x + ox, y + oy)
    }

    /// log(max(blur(map) · max(map)/max(blur(map)), 1e-10)), the blur being cv2.GaussianBlur of
    /// the map zero-padded by the kernel radius (so the image border mode never matters).
    static func modulatedLog(_ map: UnsafeBufferPointer<Float>, width w: Int, height h: Int, kernel: Int) -> [Float] {
        let r = (kernel - 1) / 2
        let k1 = gaussianKernel(kernel)
        var rows = [Double](repeating: 0, count: h * w)
        for yy in 0..<h {
            for xx in 0..<w {
                var s = 0.0
                for t in -r...r where xx + t >= 0 && xx + t < w { s += k1[t + r] * Double(map[yy * w + xx + t]) }
                rows[yy * w + xx] = s
            }
        }
        var out = [Float](repeating: 0, count: h * w)
        var blurredMax = -Float.infinity
        for yy in 0..<h {
            for xx in 0..<w {
                var s = 0.0
                for t in -r...r where yy + t >= 0 && yy + t < h { s += k1[t + r] * rows[(yy + t) * w + xx] }
                out[yy * w + xx] = Float(s)
                blurredMax = max(blurredMax, Float(s))
            }
        }
        var originMax = -Float.infinity
        for v in map { originMax = max(originMax, v) }
        let factor = originMax / blurredMax
        for i in 0..<out.count { out[i] = log(max(out[i] * factor, 1e-10)) }
        return out
    }

    /// cv2.getGaussianKernel(size, 0): fixed tables up to 7 taps, else sigma = 0.3((size−1)/2 − 1) + 0.8.
    static func gaussianKernel(_ size: Int) -> [Double] {
        switch size {
        case 1: return [1]
        case 3: return [0.25, 0.5, 0.25]
        case 5: return [0.0625, 0.25, 0.375, 0.25, 0.0625]
        case 7: return [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]
        default:
            let sigma = 0.3 * (Double(size - 1) * 0.5 - 1) + 0.8
            let k = (0..<size).map { i -> Double in
                let x = Double(i) - Double(size - 1) / 2
                return exp(-(x * x) / (2 * sigma * sigma))
            }
            let total = k.reduce(0, +)
            return k.map { $0 / total }
        }
    }

    /// mmpose `flip_back`: swap the flip pairs' channels, then mirror horizontally.
    public static func flipBack(_ heatmaps: Tensor, flipPairs: [[Int]]) -> Tensor {
        let (n, k, h, w) = (heatmaps.shape[0], heatmaps.shape[1], heatmaps.shape[2], heatmaps.shape[3])
        var source = Array(0..<k)
        for pair in flipPairs where pair.count == 2 {
            source[pair[0]] = pair[1]
            source[pair[1]] = pair[0]
        }
        return Tensor(shape: heatmaps.shape, unsafeUninitialized: { out in
            heatmaps.withUnsafeBufferPointer { inp in
                for a in 0..<n {
                    for b in 0..<k {
                        let src = (a * k + source[b]) * h * w, dst = (a * k + b) * h * w
                        for yy in 0..<h {
                            for xx in 0..<w { out[dst + yy * w + xx] = inp[src + yy * w + (w - 1 - xx)] }
                        }
                    }
                }
            }
        })
    }

    /// mmpose `shift_heatmap`: out[..., 1:] = in[..., :-1] (column 0 kept), aligning flipped maps.
    public static func shiftHeatmap(_ heatmaps: Tensor) -> Tensor {
        var out = heatmaps
        let w = heatmaps.shape[3]
        let rows = heatmaps.count / w
        out.withUnsafeMutableBufferPointer { o in
            heatmaps.withUnsafeBufferPointer { inp in
                for r in 0..<rows {
                    for xx in 1..<w { o[r * w + xx] = inp[r * w + xx - 1] }
                }
            }
        }
        return out
    }

    /// Flip test: the average of the heatmaps and the flipped-back (optionally shifted) heatmaps of
    /// the mirrored input, as mmpose's TopDown.forward_test.
    public static func flipTestAverage(_ heatmaps: Tensor, flipped: Tensor, flipPairs: [[Int]], shift: Bool) -> Tensor {
        var back = flipBack(flipped, flipPairs: flipPairs)
        if shift { back = shiftHeatmap(back) }
        var out = heatmaps
        out.withUnsafeMutableBufferPointer { o in
            back.withUnsafeBufferPointer { b in
                for i in 0..<o.count { o[i] = (o[i] + b[i]) * 0.5 }
            }
        }
        return out
    }
}

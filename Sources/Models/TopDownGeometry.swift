/// mmpose 0.x top-down crop geometry: box → center/scale (`_xywh2cs`), the crop's affine matrix
/// (`get_affine_transform`, rotation 0) and heatmap → image coordinates (`transform_preds`).
///
/// mmpose keeps center, scale and the matrix's anchor points in float32; the same roundings are
/// reproduced here so crops and keypoints agree with it to the last bit that matters.
public struct TopDownGeometry: Sendable, Equatable {
    /// Model input size in pixels (e.g. 288 × 384).
    public var inputWidth: Int
    public var inputHeight: Int
    /// Context added around the box (mmpose: 1.25).
    public var padding: Double = 1.25
    /// mmpose's scale unit in pixels.
    public static let pixelStd = 200.0

    public init(inputWidth: Int, inputHeight: Int, padding: Double = 1.25) {
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.padding = padding
    }

    /// A crop: center (x, y) in pixels and scale (w, h) in units of 200 px, float32 like mmpose.
    public struct Crop: Sendable, Equatable {
        public var center: (x: Float, y: Float)
        public var scale: (w: Float, h: Float)
        public init(center: (x: Float, y: Float), scale: (w: Float, h: Float)) {
            self.center = center
            self.scale = scale
        }
        public static func == (a: Crop, b: Crop) -> Bool {
            a.center == b.center && a.scale == b.scale
        }
    }

    /// mmpose `_xywh2cs` at test time: box (x, y, w, h) widened or heightened to the input's
    /// aspect ratio, ×`padding`.
    public func crop(box x: Double, _ y: Double, _ w: Double, _ h: Double) -> Crop {
        let aspect = Double(inputWidth) / Double(inputHeight)
        var w = w, h = h
        let center = (x: Float(x + w * 0.5), y: Float(y + h * 0.5))
        if w > aspect * h {
            h = w * 1.0 / aspect
        } else if w < aspect * h {
            w = h * aspect
        }
        // float32 array × python float stays float32 in numpy.
        let p = Float(padding)
        return Crop(center: center, scale: (Float(w / Self.pixelStd) * p, Float(h / Self.pixelStd) * p))
    }

    /// mmpose `get_affine_transform(center, scale, 0, output_size)`: a 2×3 row-major matrix mapping
    /// source-image pixels to output pixels (or the inverse when `inverse`).
    public static func affineMatrix(_ crop: Crop, outputWidth: Int, outputHeight: Int, inverse: Bool = false) -> [Double] {
        let srcW = crop.scale.w * 200                      // float32
        let c0 = crop.center.x, c1 = crop.center.y
        // src points (float32 array in mmpose): center, center + (0, −srcW/2), and the 3rd point
        // obtained by rotating (a − b) by 90° around b.
        let s0 = (c0, c1)
        let s1 = (Float(Double(c0) + 0), Float(Double(c1) + Double(srcW * -0.5)))
        let s2 = third(s0, s1)
        let dw = Float(outputWidth), dh = Float(outputHeight)
        let d0 = (dw * 0.5, dh * 0.5)
        let d1 = (dw * 0.5, dh * 0.5 + dw * -0.5)
        let d2 = third(d0, d1)
        let src = [s0, s1, s2].map { (Double($0.0), Double($0.1)) }
        let dst = [d0, d1, d2].map { (Double($0.0), Double($0.1)) }
        return inverse ? solveAffine(from: dst, to: src) : solveAffine(from: src, to: dst)
    }

    /// The crop's matrix for this geometry's input size.
    public func affineMatrix(_ crop: Crop, inverse: Bool = false) -> [Double] {
        Self.affineMatrix(crop, outputWidth: inputWidth, outputHeight: inputHeight, inverse: inverse)
    }

    /// mmpose `transform_preds` (no UDP): heatmap coordinates of a `heatmapWidth`×`heatmapHeight`
    /// map → image pixels, computed in float32 like mmpose.
    public static func transformPreds(x: Float, y: Float, crop: Crop, heatmapWidth: Int, heatmapHeight: Int) -> (x: Float, y: Float) {
        let sw = crop.scale.w * 200, sh = crop.scale.h * 200
        let sx = sw / Float(heatmapWidth), sy = sh / Float(heatmapHeight)
        return (x * sx + crop.center.x - sw * 0.5, y * sy + crop.center.y - sh * 0.5)
    }

    private static func third(_ a: (Float, Float), _ b: (Float, Float)) -> (Float, Float) {
        let d = (a.0 - b.0, a.1 - b.1)
        return (b.0 + -d.1, b.1 + d.0)
    }

    /// The affine map sending three points onto three others (float64, like cv2.getAffineTransform).
    private static func solveAffine(from s: [(Double, Double)], to d: [(Double, Double)]) -> [Double] {
        // [x y 1] rows; solve M·[a b c]ᵀ = u and M·[d e f]ᵀ = v by Cramer's rule.
        let m = [[s[0].0, s[0].1, 1.0], [s[1].0, s[1].1, 1.0], [s[2].0, s[2].1, 1.0]]
        func det(_ a: [[Double]]) -> Double {
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        }
        let dm = det(m)
        func solve(_ rhs: [Double]) -> [Double] {
            (0..<3).map { col in
                var a = m
                for r in 0..<3 { a[r][col] = rhs[r] }
                return det(a) / dm
            }
        }
        return solve(d.map(\.0)) + solve(d.map(\.1))
    }
}

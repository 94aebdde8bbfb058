import Foundation

/// Anti-aliased drawing on a packed RGB frame. Coordinates are pixel centres (pixel (3, 4) covers
/// 2.5…3.5 × 3.5…4.5), the convention of OpenCV and of keypoint coordinates.
struct Canvas {
    let width: Int, height: Int

    /// Blends `color` into the pixel at (x, y) with coverage `alpha` (0…1).
    @inline(__always)
    static func blend(_ rgb: UnsafeMutablePointer<UInt8>, _ color: (Float, Float, Float), _ alpha: Float) {
        let a = min(1, max(0, alpha))
        if a <= 0 { return }
        let b = 1 - a
        rgb[0] = UInt8(Float(rgb[0]) * b + color.0 * a + 0.5)
        rgb[1] = UInt8(Float(rgb[1]) * b + color.1 * a + 0.5)
        rgb[2] = UInt8(Float(rgb[2]) * b + color.2 * a + 0.5)
    }

    /// A coordinate as an Int, clamped far outside any frame (absurd keypoints must not trap).
    static func int(_ v: Double, _ rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> Int {
        Int(min(1e7, max(-1e7, v)).rounded(rule))
    }

    static func color(_ c: [UInt8]) -> (Float, Float, Float) { (Float(c[0]), Float(c[1]), Float(c[2])) }

    /// A line segment of width `thickness` with round caps; coverage falls off over one pixel.
    func line(_ pixels: UnsafeMutablePointer<UInt8>, from p0: (Double, Double), to p1: (Double, Double),
              thickness: Double, color: [UInt8]) {
        guard p0.0.isFinite, p0.1.isFinite, p1.0.isFinite, p1.1.isFinite, thickness > 0 else { return }
        let half = thickness / 2
        let reach = half + 1
        let x0 = max(0, Canvas.int(min(p0.0, p1.0) - reach, .down))
        let x1 = min(width - 1, Canvas.int(max(p0.0, p1.0) + reach, .up))
        let y0 = max(0, Canvas.int(min(p0.1, p1.1) - reach, .down))
        let y1 = min(height - 1, Canvas.int(max(p0.1, p1.1) + reach, .up))
        guard x0 <= x1, y0 <= y1 else { return }
        let dx = p1.0 - p0.0, dy = p1.1 - p0.1
        let lengthSquared = dx * dx + dy * dy
        let c = Canvas.color(color)
        for y in y0...y1 {
            let row = pixels + y * width * 3
            for x in x0...x1 {
                let px = Double(x) - p0.0, py = Double(y) - p0.1
                let t = lengthSquared > 0 ? min(1, max(0, (px * dx + py * dy) / lengthSquared)) : 0
                let ex = px - t * dx, ey = py - t * dy
                let distance = (ex * ex + ey * ey).squareRoot()
                let coverage = Float(half + 0.5 - distance)
                if coverage > 0 { Canvas.blend(row + x * 3, c, coverage) }
            }
        }
    }

    /// A filled disc of `radius` around (cx, cy).
    func disc(_ pixels: UnsafeMutablePointer<UInt8>, center: (Double, Double), radius: Double, color: [UInt8]) {
        line(pixels, from: center, to: center, thickness: 2 * radius, color: color)
    }

    /// An axis-aligned filled rectangle covering whole pixels x0..<x1, y0..<y1 (clipped).
    func fill(_ pixels: UnsafeMutablePointer<UInt8>, x0: Int, y0: Int, x1: Int, y1: Int, color: [UInt8]) {
        let xa = max(0, x0), xb = min(width, x1), ya = max(0, y0), yb = min(height, y1)
        guard xa < xb, ya < yb else { return }
        for y in ya..<yb {
            for x in xa..<xb {
                let p = pixels + (y * width + x) * 3
                p[0] = color[0]; p[1] = color[1]; p[2] = color[2]
            }
        }
    }

    /// Text in the embedded 5×7 font, each font pixel `scale`×`scale`, top-left at (x, y).
    func text(_ pixels: UnsafeMutablePointer<UInt8>, _ string: String, x: Int, y: Int, scale: Int, color: [UInt8]) {
        var cursor = x
        for ch in string {
            if let rows = BitmapFont.glyph(ch) {
                for (r, bits) in rows.enumerated() {
                    for col in 0..<5 where bits & (0b10000 >> col) != 0 {
                        let gx = cursor + col * scale, gy = y + r * scale
                        fill(pixels, x0: gx, y0: gy, x1: gx + scale, y1: gy + scale, color: color)
                    }
                }
            }
            cursor += BitmapFont.advance * scale
        }
    }
}

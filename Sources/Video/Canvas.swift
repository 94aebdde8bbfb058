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
        // Full coverage: the colour itself (what the blend below gives, without the arithmetic).
        if a >= 1 { set(rgb, color); return }
        let b = 1 - a
        rgb[0] = UInt8(Float(rgb[0]) * b + color.0 * a + 0.5)
        rgb[1] = UInt8(Float(rgb[1]) * b + color.1 * a + 0.5)
        rgb[2] = UInt8(Float(rgb[2]) * b + color.2 * a + 0.5)
    }

    /// Sets the pixel to `color` (full coverage).
    @inline(__always)
    static func set(_ rgb: UnsafeMutablePointer<UInt8>, _ color: (Float, Float, Float)) {
        rgb[0] = UInt8(color.0); rgb[1] = UInt8(color.1); rgb[2] = UInt8(color.2)
    }

    /// Sets the pixel to an 8-bit colour (the solid runs of lines and bars).
    @inline(__always)
    static func set(_ rgb: UnsafeMutablePointer<UInt8>, _ color: (UInt8, UInt8, UInt8)) {
        rgb[0] = color.0; rgb[1] = color.1; rgb[2] = color.2
    }

    /// A coordinate as an Int, clamped far outside any frame (absurd keypoints must not trap).
    static func int(_ v: Double, _ rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> Int {
        Int(min(1e7, max(-1e7, v)).rounded(rule))
    }

    static func color(_ c: [UInt8]) -> (Float, Float, Float) { (Float(c[0]), Float(c[1]), Float(c[2])) }

    /// Black, for outlines: the darkest colour reads against every palette colour.
    static let outlineColor: (Float, Float, Float) = (0, 0, 0)
    static let outlineRGB: [UInt8] = [0, 0, 0]

    /// A line segment of width `thickness` with round caps; coverage falls off over one pixel. With
    /// `outline` > 0 a dark band that wide is laid under it on each side, in the same pass (one
    /// distance per pixel), so the line reads on any background. `opacity` scales both (0…1).
    /// Pixels closer than `skipInside` to the segment are left alone: an outline drawn first need
    /// not fill the core that its line will cover completely.
    func line(_ pixels: UnsafeMutablePointer<UInt8>, from p0: (Double, Double), to p1: (Double, Double),
              thickness: Double, color: [UInt8], outline: Double = 0, opacity: Float = 1, skipInside: Double = 0) {
        guard p0.0.isFinite, p0.1.isFinite, p1.0.isFinite, p1.1.isFinite, thickness > 0 else { return }
        let half = thickness / 2
        let edge = max(0, outline)
        let reach = half + edge + 1
        let x0 = max(0, Canvas.int(min(p0.0, p1.0) - reach, .down))
        let x1 = min(width - 1, Canvas.int(max(p0.0, p1.0) + reach, .up))
        let y0 = max(0, Canvas.int(min(p0.1, p1.1) - reach, .down))
        let y1 = min(height - 1, Canvas.int(max(p0.1, p1.1) + reach, .up))
        guard x0 <= x1, y0 <= y1 else { return }
        let dx = p1.0 - p0.0, dy = p1.1 - p0.1
        let lengthSquared = dx * dx + dy * dy
        let c = Canvas.color(color)
        let r = half + edge + 0.5   // coverage > 0 only closer than this
        let inverseLength = lengthSquared > 0 ? 1 / lengthSquared : 0
        // Squared distances within which a pixel is solid colour, solid outline (beyond the line's
        // reach), or — negative — never (opacity below 1, no outline, lines under a pixel wide).
        let solid = opacity >= 1
        let solidCore = solid && half >= 0.5 ? (half - 0.5) * (half - 0.5) : -1
        let solidBand = solid && edge > 0 && half + edge >= 0.5 ? (half + edge - 0.5) * (half + edge - 0.5) : -1
        let clearCore = (half + 0.5) * (half + 0.5)
        let c8 = (color[0], color[1], color[2])
        for y in y0...y1 {
            let row = pixels + y * width * 3
            // Visit only the row's slice of the capsule (convex: an interval), not the whole box,
            // so long diagonal limbs cost their length, not their bounding box.
            guard let span = Canvas.capsuleSpan(y: Double(y), p0: p0, p1: p1, radius: r) else { continue }
            let xa = max(x0, Canvas.int(span.lo, .down)), xb = min(x1, Canvas.int(span.hi, .up))
            guard xa <= xb else { continue }
            // The interior to skip: whole pixels strictly within `skipInside` (a margin for rounding).
            var skipFrom = Int.max, skipTo = Int.min
            if skipInside > 0.05, let inner = Canvas.capsuleSpan(y: Double(y), p0: p0, p1: p1, radius: skipInside - 0.01) {
                skipFrom = Canvas.int(inner.lo, .up); skipTo = Canvas.int(inner.hi, .down)
            }
            let py = Double(y) - p0.1
            for x in xa...xb where x < skipFrom || x > skipTo {
                let px = Double(x) - p0.0
                let t = lengthSquared > 0 ? min(1, max(0, (px * dx + py * dy) * inverseLength)) : 0
                let ex = px - t * dx, ey = py - t * dy
                let d2 = ex * ex + ey * ey
                let pixel = row + x * 3
                // Most pixels of a wide line are fully inside its core or its outline band: set them
                // without the square root and the blend (same result: full coverage is the colour).
                if d2 <= solidCore { Canvas.set(pixel, c8); continue }
                if d2 <= solidBand && d2 >= clearCore { Canvas.set(pixel, (0, 0, 0) as (UInt8, UInt8, UInt8)); continue }
                let distance = d2.squareRoot()
                if edge > 0 {
                    let bandCoverage = Float(half + edge + 0.5 - distance)
                    if bandCoverage > 0 { Canvas.blend(pixel, Canvas.outlineColor, min(1, bandCoverage) * opacity) }
                }
                let coverage = Float(half + 0.5 - distance)
                if coverage > 0 { Canvas.blend(pixel, c, min(1, coverage) * opacity) }
            }
        }
    }

    /// An axis-aligned bar covering x0…x1 × y0…y1 (continuous coordinates, pixel centres at integers),
    /// edges anti-aliased over one pixel like `line`'s; the cheap stroke of a box edge (no square roots).
    /// `inset` > 0 leaves out the pixels fully inside the bar shrunk by that much on every side (an
    /// outline's core, which the bar drawn over it will cover).
    func bar(_ pixels: UnsafeMutablePointer<UInt8>, x0: Double, y0: Double, x1: Double, y1: Double, color: [UInt8], inset: Double = 0) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite, x0 <= x1, y0 <= y1 else { return }
        let xa = max(0, Canvas.int(x0 - 0.5, .down)), xb = min(width - 1, Canvas.int(x1 + 0.5, .up))
        let ya = max(0, Canvas.int(y0 - 0.5, .down)), yb = min(height - 1, Canvas.int(y1 + 0.5, .up))
        guard xa <= xb, ya <= yb else { return }
        let c = Canvas.color(color), c8 = (color[0], color[1], color[2])
        // Columns fully covered (coverage ≥ 1), and — with an inset — those left out on full rows.
        let fullX0 = max(xa, Canvas.int(x0 + 0.5, .up)), fullX1 = min(xb, Canvas.int(x1 - 0.5, .down))
        let skipX0 = inset > 0 ? max(fullX0, Canvas.int(x0 + inset + 0.5, .up)) : Int.max
        let skipX1 = inset > 0 ? min(fullX1, Canvas.int(x1 - inset - 0.5, .down)) : Int.min
        let skipY0 = inset > 0 ? y0 + inset + 0.5 : .infinity, skipY1 = inset > 0 ? y1 - inset - 0.5 : -.infinity
        for y in ya...yb {
            let py = Double(y)
            let rowCoverage = min(1, py - y0 + 0.5, y1 - py + 0.5)
            guard rowCoverage > 0 else { continue }
            let row = pixels + y * width * 3
            if rowCoverage >= 1 && fullX0 <= fullX1 {
                // A full row: anti-aliased ends, solid middle (minus the inset core).
                for x in xa..<fullX0 { Canvas.blend(row + x * 3, c, Float(min(1, Double(x) - x0 + 0.5))) }
                let skipping = py >= skipY0 && py <= skipY1 && skipX0 <= skipX1
                if skipping {
                    if fullX0 < skipX0 { for x in fullX0..<skipX0 { Canvas.set(row + x * 3, c8) } }
                    if skipX1 < fullX1 { for x in (skipX1 + 1)...fullX1 { Canvas.set(row + x * 3, c8) } }
                } else {
                    for x in fullX0...fullX1 { Canvas.set(row + x * 3, c8) }
                }
                if fullX1 < xb { for x in (fullX1 + 1)...xb { Canvas.blend(row + x * 3, c, Float(min(1, x1 - Double(x) + 0.5))) } }
            } else {
                for x in xa...xb {
                    let px = Double(x)
                    let coverage = min(rowCoverage, px - x0 + 0.5, x1 - px + 0.5)
                    if coverage > 0 { Canvas.blend(row + x * 3, c, Float(coverage)) }
                }
            }
        }
    }

    /// A polyline of segments p[i]–p[i+1], each with its own opacity, drawn as one shape: where
    /// segments overlap (at the joints) a pixel takes the strongest coverage, not the sum, so a fading
    /// trail stays smooth. An optional dark outline lies under the whole line.
    func polyline(_ pixels: UnsafeMutablePointer<UInt8>, points: [(Double, Double)], opacities: [Float], thickness: Double,
                  color: [UInt8], outline: Double = 0) {
        guard points.count >= 2, opacities.count == points.count - 1, thickness > 0,
              points.allSatisfy({ $0.0.isFinite && $0.1.isFinite }) else { return }
        let half = thickness / 2, edge = max(0, outline)
        let reach = half + edge + 1
        let x0 = max(0, Canvas.int(points.map(\.0).min()! - reach, .down)), x1 = min(width - 1, Canvas.int(points.map(\.0).max()! + reach, .up))
        let y0 = max(0, Canvas.int(points.map(\.1).min()! - reach, .down)), y1 = min(height - 1, Canvas.int(points.map(\.1).max()! + reach, .up))
        guard x0 <= x1, y0 <= y1 else { return }
        let w = x1 - x0 + 1
        var fill = [Float](repeating: 0, count: w * (y1 - y0 + 1)), band = fill
        for (i, (p0, p1)) in zip(points, points.dropFirst()).enumerated() {
            let opacity = opacities[i]
            let dx = p1.0 - p0.0, dy = p1.1 - p0.1, lengthSquared = dx * dx + dy * dy
            let ya = max(y0, Canvas.int(min(p0.1, p1.1) - reach, .down)), yb = min(y1, Canvas.int(max(p0.1, p1.1) + reach, .up))
            guard ya <= yb else { continue }
            for y in ya...yb {
                guard let span = Canvas.capsuleSpan(y: Double(y), p0: p0, p1: p1, radius: half + edge + 0.5) else { continue }
                let xa = max(x0, Canvas.int(span.lo, .down)), xb = min(x1, Canvas.int(span.hi, .up))
                guard xa <= xb else { continue }
                for x in xa...xb {
                    let px = Double(x) - p0.0, py = Double(y) - p0.1
                    let t = lengthSquared > 0 ? min(1, max(0, (px * dx + py * dy) / lengthSquared)) : 0
                    let ex = px - t * dx, ey = py - t * dy
                    let distance = (ex * ex + ey * ey).squareRoot()
                    let o = (y - y0) * w + (x - x0)
                    fill[o] = max(fill[o], min(1, max(0, Float(half + 0.5 - distance))) * opacity)
                    if edge > 0 { band[o] = max(band[o], min(1, max(0, Float(half + edge + 0.5 - distance))) * opacity) }
                }
            }
        }
        let c = Canvas.color(color)
        for y in y0...y1 {
            for x in x0...x1 {
                let o = (y - y0) * w + (x - x0), p = pixels + (y * width + x) * 3
                if band[o] > 0 { Canvas.blend(p, Canvas.outlineColor, band[o]) }
                if fill[o] > 0 { Canvas.blend(p, c, fill[o]) }
            }
        }
    }

    /// A circle of `radius` stroked `thickness` wide (a hollow disc), with an optional dark outline.
    func ring(_ pixels: UnsafeMutablePointer<UInt8>, center: (Double, Double), radius: Double, thickness: Double,
              color: [UInt8], outline: Double = 0) {
        guard center.0.isFinite, center.1.isFinite, radius >= 0, thickness > 0 else { return }
        let half = thickness / 2, edge = max(0, outline)
        let reach = radius + half + edge + 1
        let x0 = max(0, Canvas.int(center.0 - reach, .down)), x1 = min(width - 1, Canvas.int(center.0 + reach, .up))
        let y0 = max(0, Canvas.int(center.1 - reach, .down)), y1 = min(height - 1, Canvas.int(center.1 + reach, .up))
        guard x0 <= x1, y0 <= y1 else { return }
        let c = Canvas.color(color)
        for y in y0...y1 {
            let row = pixels + y * width * 3
            for x in x0...x1 {
                let ex = Double(x) - center.0, ey = Double(y) - center.1
                let distance = abs((ex * ex + ey * ey).squareRoot() - radius)
                if edge > 0 {
                    let band = Float(half + edge + 0.5 - distance)
                    if band > 0 { Canvas.blend(row + x * 3, Canvas.outlineColor, band) }
                }
                let coverage = Float(half + 0.5 - distance)
                if coverage > 0 { Canvas.blend(row + x * 3, c, coverage) }
            }
        }
    }

    /// The x interval where the horizontal line at `y` is within `radius` of the segment p0–p1.
    static func capsuleSpan(y: Double, p0: (Double, Double), p1: (Double, Double), radius: Double) -> (lo: Double, hi: Double)? {
        var lo = Double.infinity, hi = -Double.infinity
        // The two end discs (written out: this runs once per row of every line).
        let d0 = y - p0.1, d1 = y - p1.1
        if abs(d0) < radius {
            let w = (radius * radius - d0 * d0).squareRoot()
            lo = min(lo, p0.0 - w); hi = max(hi, p0.0 + w)
        }
        if abs(d1) < radius {
            let w = (radius * radius - d1 * d1).squareRoot()
            lo = min(lo, p1.0 - w); hi = max(hi, p1.0 + w)
        }
        let dx = p1.0 - p0.0, dy = p1.1 - p0.1
        let length = (dx * dx + dy * dy).squareRoot()
        if length > 0 {
            let ux = dx / length, uy = dy / length
            // Along the segment: 0 ≤ (x−x0)·ux + (y−y0)·uy ≤ length; across it: |(x−x0)·(−uy) + (y−y0)·ux| ≤ radius.
            let along = slab(a: ux, low: p0.0 * ux - (y - p0.1) * uy, high: p0.0 * ux - (y - p0.1) * uy + length)
            let across = slab(a: -uy, low: -p0.0 * uy - (y - p0.1) * ux - radius, high: -p0.0 * uy - (y - p0.1) * ux + radius)
            if let a = along, let b = across {
                let l = max(a.lo, b.lo), h = min(a.hi, b.hi)
                if l <= h { lo = min(lo, l); hi = max(hi, h) }
            }
        }
        return lo <= hi ? (lo, hi) : nil
    }

    /// The x values with low ≤ a·x ≤ high (all x when a ≈ 0 and 0 lies in the range), or nil.
    private static func slab(a: Double, low: Double, high: Double) -> (lo: Double, hi: Double)? {
        if abs(a) < 1e-12 { return low <= 0 && 0 <= high ? (-Double.infinity, Double.infinity) : nil }
        return a > 0 ? (low / a, high / a) : (high / a, low / a)
    }

    /// A filled disc of `radius` around (cx, cy), with an optional dark outline.
    func disc(_ pixels: UnsafeMutablePointer<UInt8>, center: (Double, Double), radius: Double, color: [UInt8], outline: Double = 0) {
        line(pixels, from: center, to: center, thickness: 2 * radius, color: color, outline: outline)
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

    /// Blends an 8-bit coverage bitmap (`w`×`h`, row-major) in `color`, its top-left pixel at (x, y) (clipped).
    func blendMask(_ pixels: UnsafeMutablePointer<UInt8>, _ mask: [UInt8], w: Int, h: Int, x: Int, y: Int, color: [UInt8]) {
        let c = Canvas.color(color)
        let ya = max(0, y), yb = min(height, y + h), xa = max(0, x), xb = min(width, x + w)
        guard xa < xb, ya < yb else { return }
        for py in ya..<yb {
            for px in xa..<xb {
                let m = mask[(py - y) * w + (px - x)]
                if m != 0 { Canvas.blend(pixels + (py * width + px) * 3, c, Float(m) / 255) }
            }
        }
    }
}

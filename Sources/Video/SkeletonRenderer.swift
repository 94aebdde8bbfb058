import Foundation
import Keypoints

/// Draws persons onto RGB frames: motion trails, boxes, skeleton links and keypoint discs (in
/// mmpose's left/right/centre palette, or per track), then labels on top; every part over a dark
/// outline. Sizes follow the frame unless the style fixes them.
public struct SkeletonRenderer: Sendable {
    public let schema: KeypointSchema
    public let style: RenderStyle
    /// Loaded when the style draws labels.
    let font: LabelFont?

    /// Distinct box colours for track ids (id modulo the count).
    static let trackPalette: [[UInt8]] = [
        [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
        [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [170, 110, 40],
    ]

    /// Throws LabelFontError (naming the font file) when the style draws labels and its font is missing.
    public init(schema: KeypointSchema, style: RenderStyle = .init()) throws {
        self.schema = schema
        self.style = style
        font = style.drawsLabels ? try LabelFont(path: style.fontPath) : nil
    }

    /// Box and label colour of a person.
    public func boxColor(for person: PersonPose) -> [UInt8] {
        if let c = style.boxColor { return c }
        guard let id = person.trackID else { return [0, 255, 0] }
        return SkeletonRenderer.trackColor(id)
    }

    /// The palette colour of a track id.
    static func trackColor(_ id: Int) -> [UInt8] {
        trackPalette[((id % trackPalette.count) + trackPalette.count) % trackPalette.count]
    }

    /// The label text of a person under the style (nil: no label).
    public func labelText(for person: PersonPose) -> String? {
        switch style.label {
        case .none: return nil
        case .id: return person.trackID.map { "ID \($0)" }
        case .idScore:
            let score = person.score.isFinite ? String(format: "%.2f", person.score) : "-"
            return person.trackID.map { "\($0) \(score)" } ?? score
        }
    }

    /// Draws every person on the frame, in order (later persons on top), over the trails when given.
    public func draw(_ persons: [PersonPose], on frame: inout VideoFrame, trails: MotionTrails? = nil) {
        let canvas = Canvas(width: frame.width, height: frame.height)
        let sizes = style.sizes(width: frame.width, height: frame.height)
        let outline = style.outline ? sizes.outline : 0
        frame.rgb.withUnsafeMutableBufferPointer { buffer in
            let pixels = buffer.baseAddress!
            if let trails, let now = trails.currentFrame {
                drawTrails(trails, now: now, sizes: sizes, outline: outline, canvas: canvas, pixels: pixels)
            }
            for person in persons { draw(person, sizes: sizes, outline: outline, canvas: canvas, pixels: pixels) }
            // Labels last, so another person's limbs never hide them.
            if style.drawsLabels, let font {
                for person in persons { drawLabel(person, font: font, sizes: sizes, outline: outline, canvas: canvas, pixels: pixels) }
            }
        }
    }

    private func visible(_ k: [Double]) -> Bool {
        k.count >= 3 && k[0].isFinite && k[1].isFinite && k[2] >= style.keypointThreshold
    }

    /// Skeleton colours for a person: the schema's palette, or its track colour under `--color-by track`.
    private func partColors(_ person: PersonPose) -> (links: (Int) -> [UInt8], points: (Int) -> [UInt8]) {
        if style.colorBy == .track, let id = person.trackID {
            let c = SkeletonRenderer.trackColor(id)
            return ({ _ in c }, { _ in c })
        }
        return ({ schema.linkColors[$0] }, { schema.keypointColors[$0] })
    }

    private func draw(_ person: PersonPose, sizes: RenderSizes, outline: Double, canvas: Canvas, pixels: UnsafeMutablePointer<UInt8>) {
        if style.drawBoxes, person.bbox.count == 4, person.bbox.allSatisfy(\.isFinite) {
            let b = person.bbox, color = boxColor(for: person)
            // Four bars with square corners; all outlines first, so no edge's outline cuts into another edge.
            let left = b[0], top = b[1], right = b[0] + b[2], bottom = b[1] + b[3]
            func edges(_ h: Double, _ color: [UInt8], inset: Double) {
                canvas.bar(pixels, x0: left - h, y0: top - h, x1: right + h, y1: top + h, color: color, inset: inset)
                canvas.bar(pixels, x0: left - h, y0: bottom - h, x1: right + h, y1: bottom + h, color: color, inset: inset)
                // Overlapping the horizontal bars by a pixel: a seam blended twice at partial coverage would show.
                canvas.bar(pixels, x0: left - h, y0: top + h - 1, x1: left + h, y1: bottom - h + 1, color: color, inset: inset)
                canvas.bar(pixels, x0: right - h, y0: top + h - 1, x1: right + h, y1: bottom - h + 1, color: color, inset: inset)
            }
            // The outline's core is left to the colour bars drawn over it.
            if outline > 0 { edges(sizes.boxWidth / 2 + outline, Canvas.outlineRGB, inset: outline) }
            edges(sizes.boxWidth / 2, color, inset: 0)
        }
        let k = person.keypoints
        let colors = partColors(person)
        let links = schema.skeleton.enumerated().compactMap { (i, link) -> (Int, (Double, Double), (Double, Double))? in
            guard link.count == 2, link[0] < k.count, link[1] < k.count, visible(k[link[0]]), visible(k[link[1]]) else { return nil }
            return (i, (k[link[0]][0], k[link[0]][1]), (k[link[1]][0], k[link[1]][1]))
        }
        if outline > 0 && sizes.radius < sizes.lineWidth / 2 + outline + 0.5 {
            // Discs too small to cover where a link's outline crosses its neighbour's end: all link
            // outlines first, then all colours, so limbs meet cleanly at the joints.
            for (_, a, b) in links {
                canvas.line(pixels, from: a, to: b, thickness: sizes.lineWidth + 2 * outline, color: Canvas.outlineRGB,
                            skipInside: sizes.lineWidth / 2 - 0.5)
            }
            for (i, a, b) in links { canvas.line(pixels, from: a, to: b, thickness: sizes.lineWidth, color: colors.links(i)) }
        } else {
            // One pass per link (outline and colour together): the joint discs hide the ends.
            for (i, a, b) in links { canvas.line(pixels, from: a, to: b, thickness: sizes.lineWidth, color: colors.links(i), outline: outline) }
        }
        for (i, point) in k.enumerated() where i < schema.keypointColors.count {
            if visible(point) {
                canvas.disc(pixels, center: (point[0], point[1]), radius: sizes.radius, color: colors.points(i), outline: outline)
            } else if style.showLow, point.count >= 3, point[2] > 0 {
                // Score 0 means "not there" (unannotated, or outside the crop); anything else was a guess.
                canvas.ring(pixels, center: (point[0], point[1]), radius: max(1, sizes.radius - sizes.lineWidth / 4),
                            thickness: max(1, sizes.lineWidth / 2), color: colors.points(i), outline: outline)
            }
        }
    }

    /// The label box: filled in the box colour over a dark outline, text in black or white,
    /// whichever contrasts with it; above the box's top-left corner, or inside it at the frame's top.
    private func drawLabel(_ person: PersonPose, font: LabelFont, sizes: RenderSizes, outline: Double,
                           canvas: Canvas, pixels: UnsafeMutablePointer<UInt8>) {
        guard person.bbox.count == 4, person.bbox.allSatisfy(\.isFinite), let text = labelText(for: person) else { return }
        let b = person.bbox, color = boxColor(for: person)
        let size = max(4, Int(sizes.labelSize.rounded()))
        let cap = font.capHeight(size: size)
        let pad = max(2, Int((Double(cap) * 0.4).rounded()))
        let w = font.width(text, size: size) + 2 * pad, h = cap + 2 * pad
        // Flush with the box line's outer edge.
        let half = sizes.boxWidth / 2
        var x = Canvas.int(b[0] - half, .down)
        let top = Canvas.int(b[1] - half, .down)
        let y = top - h >= 0 ? top - h : max(0, top)
        x = max(0, min(x, canvas.width - w))
        if outline > 0 {
            let o = Int(outline.rounded(.up))
            canvas.fill(pixels, x0: x - o, y0: y - o, x1: x + w + o, y1: y + h + o, color: Canvas.outlineRGB)
        }
        canvas.fill(pixels, x0: x, y0: y, x1: x + w, y1: y + h, color: color)
        let luminance = 0.299 * Double(color[0]) + 0.587 * Double(color[1]) + 0.114 * Double(color[2])
        let ink: [UInt8] = luminance > 140 ? [0, 0, 0] : [255, 255, 255]
        var pen = x + pad
        let baseline = y + pad + cap
        for s in text.unicodeScalars {
            let g = font.glyph(s, size: size)
            if g.width > 0 {
                canvas.blendMask(pixels, g.coverage, w: g.width, h: g.rows, x: pen + g.left, y: baseline - g.top, color: ink)
            }
            pen += g.advance
        }
    }

    /// Each joint's recent positions as a polyline that fades with age: the newest segment nearly
    /// opaque, the oldest faint.
    private func drawTrails(_ trails: MotionTrails, now: Int, sizes: RenderSizes, outline: Double, canvas: Canvas,
                            pixels: UnsafeMutablePointer<UInt8>) {
        let n = Double(max(1, trails.length))
        for path in trails.paths(threshold: style.keypointThreshold) where path.joint < schema.keypointColors.count {
            let color = style.colorBy == .track ? SkeletonRenderer.trackColor(path.trackID) : schema.keypointColors[path.joint]
            let opacities = path.points.dropFirst().map { Float(0.9 * max(0, 1 - Double(now - $0.frame) / n)) }
            canvas.polyline(pixels, points: path.points.map { ($0.x, $0.y) }, opacities: opacities, thickness: sizes.trailWidth,
                            color: color, outline: outline * 0.75)
        }
    }
}

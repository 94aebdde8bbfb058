import Keypoints

/// Draws persons onto RGB frames: boxes, track-id labels, skeleton links and keypoint discs in the
/// schema's colours (mmpose's palette), skipping keypoints below the style's threshold.
public struct SkeletonRenderer: Sendable {
    public let schema: KeypointSchema
    public let style: RenderStyle

    /// Distinct box colours for track ids (id modulo the count).
    static let trackPalette: [[UInt8]] = [
        [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
        [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [170, 110, 40],
    ]

    public init(schema: KeypointSchema, style: RenderStyle = .init()) {
        self.schema = schema
        self.style = style
    }

    /// Box colour of a person.
    public func boxColor(for person: PersonPose) -> [UInt8] {
        if let c = style.boxColor { return c }
        guard let id = person.trackID else { return [0, 255, 0] }
        return SkeletonRenderer.trackPalette[((id % 12) + 12) % 12]
    }

    /// Draws every person on the frame, in order (later persons on top).
    public func draw(_ persons: [PersonPose], on frame: inout VideoFrame) {
        let canvas = Canvas(width: frame.width, height: frame.height)
        frame.rgb.withUnsafeMutableBufferPointer { buffer in
            let pixels = buffer.baseAddress!
            for person in persons { draw(person, canvas: canvas, pixels: pixels) }
        }
    }

    private func visible(_ k: [Double]) -> Bool {
        k.count >= 3 && k[0].isFinite && k[1].isFinite && k[2] >= style.keypointThreshold
    }

    private func draw(_ person: PersonPose, canvas: Canvas, pixels: UnsafeMutablePointer<UInt8>) {
        if style.drawBoxes, person.bbox.count == 4, person.bbox.allSatisfy(\.isFinite) {
            let b = person.bbox, color = boxColor(for: person)
            let corners = [(b[0], b[1]), (b[0] + b[2], b[1]), (b[0] + b[2], b[1] + b[3]), (b[0], b[1] + b[3])]
            for i in 0..<4 {
                canvas.line(pixels, from: corners[i], to: corners[(i + 1) % 4], thickness: style.boxThickness, color: color)
            }
            if style.drawTrackIDs, let id = person.trackID {
                let label = "ID \(id)", scale = max(1, style.labelScale)
                let w = BitmapFont.width(label, scale: scale) + 2 * scale
                let h = BitmapFont.glyphHeight * scale + 2 * scale
                let x = Canvas.int(b[0]), top = Canvas.int(b[1])
                // Above the box when there is room, else just inside its top edge.
                let y = top - h >= 0 ? top - h : top
                canvas.fill(pixels, x0: x, y0: y, x1: x + w, y1: y + h, color: color)
                let luminance = 0.299 * Double(color[0]) + 0.587 * Double(color[1]) + 0.114 * Double(color[2])
                canvas.text(pixels, label, x: x + scale, y: y + scale, scale: scale,
                            color: luminance > 140 ? [0, 0, 0] : [255, 255, 255])
            }
        }
        let k = person.keypoints
        for (i, link) in schema.skeleton.enumerated() where link.count == 2 {
            let a = link[0], b = link[1]
            guard a < k.count, b < k.count, visible(k[a]), visible(k[b]) else { continue }
            canvas.line(pixels, from: (k[a][0], k[a][1]), to: (k[b][0], k[b][1]), thickness: style.thickness,
                        color: schema.linkColors[i])
        }
        for (i, point) in k.enumerated() where i < schema.keypointColors.count && visible(point) {
            canvas.disc(pixels, center: (point[0], point[1]), radius: style.radius, color: schema.keypointColors[i])
        }
    }
}

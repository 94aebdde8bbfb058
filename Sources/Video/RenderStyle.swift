/// How skeletons are drawn. Sizes left nil derive from the frame (see `RenderSizes`), so overlays
/// look alike at 240p, 720p and 4K; the threshold follows mmpose's `vis_pose_result` (0.3).
public struct RenderStyle: Sendable, Equatable {
    /// What colours the skeleton: mmpose's left/right/centre palette, or the person's track colour.
    public enum ColorBy: String, Sendable, CaseIterable { case part, track }
    /// The text on each person's label.
    public enum Label: String, Sendable, CaseIterable {
        /// "ID 3" (tracked persons only).
        case id
        /// "3 0.92": track id and person score (the score alone when untracked).
        case idScore = "id-score"
        case none
    }

    /// Keypoints scoring below this are not drawn (hollow with `showLow`); a link needs both ends at or above it.
    public var keypointThreshold: Double = 0.3
    /// Keypoint disc radius in pixels; nil derives it from the frame size.
    public var radius: Double? = nil
    /// Skeleton link width in pixels; nil derives it from the frame size.
    public var thickness: Double? = nil
    /// Draw each person's box (`bbox`).
    public var drawBoxes: Bool = true
    /// Box line width in pixels; nil derives it from the frame size.
    public var boxThickness: Double? = nil
    /// The label drawn above each box (only with `drawBoxes`).
    public var label: Label = .id
    /// Label text size in pixels per em; nil derives it from the frame size.
    public var labelSize: Double? = nil
    /// Box and label colour; nil picks a colour per track id (green for untracked persons, as mmpose).
    public var boxColor: [UInt8]? = nil
    public var colorBy: ColorBy = .part
    /// A dark outline under every line, disc and label, so any colour reads on any background.
    public var outline: Bool = true
    /// Draw keypoints below the threshold as hollow circles instead of hiding them.
    public var showLow: Bool = false
    /// Frames of motion trail behind each tracked joint (0: none). Needs a `MotionTrails` of this length.
    public var trails: Int = 0
    /// TrueType font for labels.
    public var fontPath: String = LabelFont.defaultPath

    public init(keypointThreshold: Double = 0.3, radius: Double? = nil, thickness: Double? = nil, drawBoxes: Bool = true,
                boxThickness: Double? = nil, label: Label = .id, labelSize: Double? = nil, boxColor: [UInt8]? = nil,
                colorBy: ColorBy = .part, outline: Bool = true, showLow: Bool = false, trails: Int = 0,
                fontPath: String = LabelFont.defaultPath) {
        self.keypointThreshold = keypointThreshold
        self.radius = radius
        self.thickness = thickness
        self.drawBoxes = drawBoxes
        self.boxThickness = boxThickness
        self.label = label
        self.labelSize = labelSize
        self.boxColor = boxColor
        self.colorBy = colorBy
        self.outline = outline
        self.showLow = showLow
        self.trails = trails
        self.fontPath = fontPath
    }

    /// The pixel sizes for a frame of `width`×`height`: explicit sizes win, the rest scale with the frame.
    public func sizes(width: Int, height: Int) -> RenderSizes {
        var s = RenderSizes(width: width, height: height)
        if let radius { s.radius = radius }
        if let thickness { s.lineWidth = thickness }
        if let boxThickness { s.boxWidth = boxThickness }
        if let labelSize { s.labelSize = labelSize }
        return s
    }

    /// True when labels are drawn (and a font is needed).
    public var drawsLabels: Bool { drawBoxes && label != .none }
}

/// Pixel sizes of the overlay's parts, all proportional to one unit: Ultralytics' line width
/// `(w + h) / 2 × 0.003`, kept fractional (lines are anti-aliased) and at least 2 px so 240p stays
/// legible. 720p: unit 3 (links 3 px, discs r 4.5, text 18 px); 1080p: 4.5; 2160p: 9.
public struct RenderSizes: Sendable, Equatable {
    /// Skeleton link width.
    public var lineWidth: Double
    /// Keypoint disc radius.
    public var radius: Double
    /// Person box line width.
    public var boxWidth: Double
    /// Width of the dark outline on each side of lines, discs and labels.
    public var outline: Double
    /// Label text size, pixels per em.
    public var labelSize: Double
    /// Motion trail width.
    public var trailWidth: Double

    /// The unit line width for a frame: max(2, (width + height) / 2 × 0.003).
    public static func unit(width: Int, height: Int) -> Double {
        max(2, Double(width + height) / 2 * 0.003)
    }

    public init(width: Int, height: Int) {
        let u = RenderSizes.unit(width: width, height: height)
        lineWidth = u
        radius = 1.5 * u
        boxWidth = u
        outline = max(1, 0.4 * u)
        labelSize = 6 * u
        trailWidth = 0.75 * u
    }
}

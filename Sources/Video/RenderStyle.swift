/// How skeletons are drawn. Defaults follow mmpose's `vis_pose_result` (radius 4, threshold 0.3)
/// except the link width: 2 px anti-aliased reads like OpenCV's aliased 1 px line.
public struct RenderStyle: Sendable, Equatable {
    /// Keypoints scoring below this are not drawn; a link needs both ends at or above it.
    public var keypointThreshold: Double = 0.3
    /// Keypoint disc radius in pixels.
    public var radius: Double = 4
    /// Skeleton link width in pixels.
    public var thickness: Double = 2
    /// Draw each person's box (`bbox`).
    public var drawBoxes: Bool = true
    /// Box outline width in pixels.
    public var boxThickness: Double = 1
    /// Label each box with "ID <track id>" when the person has one.
    public var drawTrackIDs: Bool = true
    /// Bitmap font scale (glyphs are 5×7 pixels at scale 1).
    public var labelScale: Int = 2
    /// Box colour; nil picks a colour per track id (green for untracked persons, as mmpose).
    public var boxColor: [UInt8]? = nil

    public init(keypointThreshold: Double = 0.3, radius: Double = 4, thickness: Double = 2, drawBoxes: Bool = true,
                boxThickness: Double = 1, drawTrackIDs: Bool = true, labelScale: Int = 2, boxColor: [UInt8]? = nil) {
        self.keypointThreshold = keypointThreshold
        self.radius = radius
        self.thickness = thickness
        self.drawBoxes = drawBoxes
        self.boxThickness = boxThickness
        self.drawTrackIDs = drawTrackIDs
        self.labelScale = labelScale
        self.boxColor = boxColor
    }
}

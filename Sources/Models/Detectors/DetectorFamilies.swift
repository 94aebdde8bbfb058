/// A person-detector family: how its checkpoints are recognised from their parameter names, in
/// which release's layout. `ModelFamilies.detectors` is the registry (a new family: one type, one
/// line there); `DetectorDescription.infer` reads the architecture from the shapes.
public protocol DetectorFamily: Sendable {
    var id: DetectorDescription.Family { get }
    /// "a YOLOX person detector", for messages saying what a file is.
    var title: String { get }
    /// The parameters that identify the family's checkpoints, for "unrecognised" messages.
    var signature: String { get }
    /// The release layout when the names are this family's, else nil.
    func layout(of names: Set<String>) -> DetectorDescription.Layout?
}

/// YOLOX: Megvii's release (`backbone.backbone.…`, `head.cls_preds.…`) or mmdet's port (Focus stem
/// `backbone.stem.conv.…`).
public struct YOLOXFamily: DetectorFamily {
    public init() {}
    public var id: DetectorDescription.Family { .yolox }
    public var title: String { "a YOLOX person detector" }
    public var signature: String { "'backbone.backbone.stem.conv.conv.weight' or 'backbone.stem.conv.conv.weight' (YOLOX)" }
    public func layout(of names: Set<String>) -> DetectorDescription.Layout? {
        if names.contains("backbone.backbone.stem.conv.conv.weight") || names.contains("head.cls_preds.0.weight") { return .megvii }
        if names.contains("backbone.stem.conv.conv.weight") || names.contains("bbox_head.multi_level_conv_cls.0.weight") { return .mmdet }
        return nil
    }
}

/// RTMDet (mmdetection 3.x): three-conv stem `backbone.stem.0.…`, `bbox_head.rtm_cls.…`.
public struct RTMDetFamily: DetectorFamily {
    public init() {}
    public var id: DetectorDescription.Family { .rtmdet }
    public var title: String { "an RTMDet person detector" }
    public var signature: String { "'backbone.stem.0.conv.weight' with 'bbox_head.rtm_cls.0.weight' (RTMDet)" }
    public func layout(of names: Set<String>) -> DetectorDescription.Layout? {
        names.contains("backbone.stem.0.conv.weight") || names.contains("bbox_head.rtm_cls.0.weight") ? .mmdet : nil
    }
}

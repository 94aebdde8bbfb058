import Foundation

/// The architecture of a YOLOX or RTMDet checkpoint, inferred from its parameter names and shapes
/// (names are mmdet's; Megvii's YOLOX release is read through `DetectorNames`).
public struct DetectorDescription: Codable, Equatable, Sendable {
    public enum Family: String, Codable, Sendable { case yolox = "YOLOX", rtmdet = "RTMDet" }
    /// Where the names come from: Megvii's YOLOX release (`{"model": …}`) or mmdetection.
    public enum Layout: String, Codable, Sendable { case megvii, mmdet }

    public var family: Family
    public var layout: Layout
    /// Output channels of the stem convs (YOLOX: the Focus conv; RTMDet: three 3×3 convs).
    public var stemChannels: [Int]
    /// Output channels of the four backbone stages (the last three feed the neck).
    public var stageChannels: [Int]
    /// Blocks in each stage's CSP layer.
    public var stageBlocks: [Int]
    /// Blocks in each CSP layer of the neck.
    public var neckBlocks: Int
    /// Channels of the neck outputs, which the head reads.
    public var neckChannels: Int
    /// Channels of the head's stacked convs.
    public var headChannels: Int
    /// Stacked convs per head branch.
    public var headConvs: Int
    public var classes: Int
    /// Depthwise-separable 3×3 convs in the backbone and neck (YOLOX-nano, RTMDet-nano).
    public var depthwise: Bool
    /// Depthwise-separable 3×3 convs in the neck's CSP blocks (mmdet 3.x's released CSPNeXtPAFPN
    /// follows `depthwise`; an earlier version kept them dense).
    public var neckBlocksDepthwise: Bool
    /// Depthwise-separable neck out convs (RTMDet 3×3 out convs in depthwise variants).
    public var neckOutDepthwise: Bool
    /// Depthwise-separable stacked convs in the head.
    public var headDepthwise: Bool
    /// CSPNeXt channel attention after each backbone CSP layer (RTMDet).
    public var channelAttention: Bool

    /// Feature strides of the three head levels.
    public var strides: [Int] { [8, 16, 32] }
    /// Input sides must be multiples of this.
    public var inputMultiple: Int { 32 }

    /// The release's size name when the widths match one (e.g. "s", "nano"), else "custom".
    public var sizeName: String {
        let base = family == .yolox ? stemChannels[0] : stemChannels[2]
        let sizes: [Int: String] = family == .yolox
            ? [16: depthwise ? "nano" : "?", 24: "tiny", 32: "s", 48: "m", 64: "l", 80: "x"]
            : [16: "nano", 24: "tiny", 32: "s", 48: "m", 64: "l", 80: "x"]
        return sizes[base].flatMap { $0 == "?" ? nil : $0 } ?? "custom"
    }

    /// One line for humans: "YOLOX-s (Megvii layout, 80 classes)".
    public var title: String {
        "\(family.rawValue)-\(sizeName) (\(layout == .megvii ? "Megvii" : "mmdet") layout, \(classes) class\(classes == 1 ? "" : "es"))"
    }

    /// Infers the description from canonical (mmdet) names → shapes; throws for layouts it does not know.
    static func infer(layout: Layout, shape: (String) -> [Int]?) throws -> DetectorDescription {
        func need(_ name: String) throws -> [Int] {
            guard let s = shape(name) else { throw ModelError("unrecognised detector layout: no '\(DetectorNames.original(name, layout))'") }
            return s
        }
        func count(_ key: (Int) -> String) -> Int {
            var n = 0
            while shape(key(n)) != nil { n += 1 }
            return n
        }
        func out(_ prefix: String) throws -> Int {
            if let s = shape(prefix + ".conv.weight") { return s[0] }
            return try need(prefix + ".pointwise_conv.conv.weight")[0]
        }
        let family: Family
        var stem: [Int]
        if let focus = shape("backbone.stem.conv.conv.weight") {
            guard focus.count == 4, focus[1] == 12 else {
                throw ModelError("unrecognised detector layout: Focus stem weight has shape \(focus), expected [C, 12, 3, 3]")
            }
            family = .yolox
            stem = [focus[0]]
        } else if shape("backbone.stem.0.conv.weight") != nil {
            family = .rtmdet
            stem = try (0..<3).map { try need("backbone.stem.\($0).conv.weight")[0] }
        } else {
            throw ModelError("unrecognised detector layout: no YOLOX Focus stem ('backbone.stem.conv.conv.weight') and no RTMDet stem ('backbone.stem.0.conv.weight')")
        }
        let depthwise = shape("backbone.stage1.0.depthwise_conv.conv.weight") != nil
        var channels: [Int] = [], blocks: [Int] = []
        for s in 1...4 {
            channels.append(try out("backbone.stage\(s).0"))
            let csp = s == 4 ? 2 : 1
            let n = count { "backbone.stage\(s).\(csp).blocks.\($0).conv1.\(family == .rtmdet && depthwise ? "depthwise_conv.conv" : "conv").weight" }
            guard n > 0 else { throw ModelError("unrecognised detector layout: no blocks in 'backbone.stage\(s).\(csp)'") }
            blocks.append(n)
        }
        let neckBlocksDepthwise = family == .yolox ? depthwise
            : shape("neck.top_down_blocks.0.blocks.0.conv1.depthwise_conv.conv.weight") != nil
        let neckBlocks = count { "neck.top_down_blocks.0.blocks.\($0).conv1.\(family == .rtmdet && neckBlocksDepthwise ? "depthwise_conv.conv" : "conv").weight" }
        let neckOutDepthwise = shape("neck.out_convs.0.depthwise_conv.conv.weight") != nil
        let neckChannels = try out("neck.out_convs.0")
        let attention = shape("backbone.stage1.1.attention.fc.weight") != nil
        let headDepthwise: Bool, headConvs: Int, classes: Int, headChannels: Int
        switch family {
        case .yolox:
            let cls = try need("bbox_head.multi_level_conv_cls.0.weight")
            classes = cls[0]; headChannels = cls[1]
            headDepthwise = shape("bbox_head.multi_level_cls_convs.0.0.depthwise_conv.conv.weight") != nil
            headConvs = count { "bbox_head.multi_level_cls_convs.0.\($0).\(headDepthwise ? "pointwise_conv.conv" : "conv").weight" }
        case .rtmdet:
            let cls = try need("bbox_head.rtm_cls.0.weight")
            classes = cls[0]; headChannels = cls[1]
            headDepthwise = shape("bbox_head.cls_convs.0.0.depthwise_conv.conv.weight") != nil
            headConvs = count { "bbox_head.cls_convs.0.\($0).\(headDepthwise ? "pointwise_conv.conv" : "conv").weight" }
        }
        guard neckBlocks > 0, headConvs > 0 else { throw ModelError("unrecognised detector layout: no neck CSP blocks or head convs") }
        return DetectorDescription(family: family, layout: layout, stemChannels: stem, stageChannels: channels, stageBlocks: blocks,
                                   neckBlocks: neckBlocks, neckChannels: neckChannels, headChannels: headChannels,
                                   headConvs: headConvs, classes: classes, depthwise: depthwise, neckBlocksDepthwise: neckBlocksDepthwise,
                                   neckOutDepthwise: neckOutDepthwise, headDepthwise: headDepthwise, channelAttention: attention)
    }

    /// A short JSON-able summary, e.g. for `posewarper inspect --json`.
    public var summary: [String: Any] {
        ["family": family.rawValue, "layout": layout.rawValue, "size": sizeName, "stem": stemChannels,
         "stages": stageChannels, "blocks": stageBlocks, "neckBlocks": neckBlocks, "neckChannels": neckChannels,
         "headChannels": headChannels, "classes": classes, "depthwise": depthwise, "neckBlocksDepthwise": neckBlocksDepthwise,
         "neckOutDepthwise": neckOutDepthwise, "headDepthwise": headDepthwise,
         "channelAttention": channelAttention]
    }
}

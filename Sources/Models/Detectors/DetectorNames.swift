/// Megvii's YOLOX release names ↔ mmdet's names (the canonical ones the network is built from).
///
/// Megvii nests the backbone in its PAFPN (`backbone.backbone.dark2…`), names the neck convs by role
/// (`lateral_conv0`, `C3_p4`, …), keeps the 1×1 level stems in the head (`head.stems.i`, mmdet's
/// `neck.out_convs.i`) and calls CSP parts conv1/conv2/conv3/m and separable parts dconv/pconv.
enum DetectorNames {
    private static let neck: [String: String] = [
        "reduce_layers.0": "lateral_conv0", "top_down_blocks.0": "C3_p4", "reduce_layers.1": "reduce_conv1",
        "top_down_blocks.1": "C3_p3", "downsamples.0": "bu_conv2", "bottom_up_blocks.0": "C3_n3",
        "downsamples.1": "bu_conv1", "bottom_up_blocks.1": "C3_n4",
    ]
    private static let head: [String: String] = [
        "multi_level_cls_convs": "cls_convs", "multi_level_reg_convs": "reg_convs", "multi_level_conv_cls": "cls_preds",
        "multi_level_conv_reg": "reg_preds", "multi_level_conv_obj": "obj_preds",
    ]
    private static let tokens: [String: String] = [
        "main_conv": "conv1", "short_conv": "conv2", "final_conv": "conv3", "blocks": "m",
        "depthwise_conv": "dconv", "pointwise_conv": "pconv",
    ]

    /// The Megvii name of a canonical (mmdet) YOLOX parameter name.
    static func megvii(_ name: String) -> String {
        let parts = name.split(separator: ".").map(String.init)
        guard parts.count >= 3 else { return name }
        var rest: [String]
        switch parts[0] {
        case "backbone":
            if parts[1] == "stem" {
                rest = ["backbone", "backbone", "stem"] + parts[2...]
            } else if parts[1].hasPrefix("stage"), let k = Int(parts[1].dropFirst(5)) {
                rest = ["backbone", "backbone", "dark\(k + 1)"] + parts[2...]
            } else { return name }
        case "neck":
            if parts[1] == "out_convs" {
                rest = ["head", "stems", parts[2]] + parts[3...]
            } else if let n = neck["\(parts[1]).\(parts[2])"] {
                rest = ["backbone", n] + parts[3...]
            } else { return name }
        case "bbox_head":
            guard let h = head[parts[1]] else { return name }
            rest = ["head", h] + parts[2...]
        default:
            return name
        }
        return rest.map { tokens[$0] ?? $0 }.joined(separator: ".")
    }

    /// The name as the checkpoint of `layout` spells it.
    static func original(_ canonical: String, _ layout: DetectorDescription.Layout) -> String {
        layout == .megvii ? megvii(canonical) : canonical
    }
}

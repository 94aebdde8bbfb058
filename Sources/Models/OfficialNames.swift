/// Key names of the 2019 PoseWarper release (a naming table; the model families decide which model
/// a checkpoint holds) (facebookresearch/PoseWarper,
/// lib/models/pose_hrnet_PoseAgg.py) mapped onto mmpose 0.x names.
///
/// The release has no `backbone.` prefix; its `final_layer` is the heatmap conv, i.e. mmpose's
/// `neck.trans_layer` in a PoseWarper and `keypoint_head.final_layer` in a plain HRNet;
/// `offsets{j+1}` / `deform_conv{j+1}` are `neck.offset_layers.j` / `neck.deform_conv_layers.j`,
/// and `offset_feats` lives under `neck.`.
public enum OfficialNames {
    /// True when the names look like the 2019 release (a bare HRNet stem, nothing under `backbone.`).
    public static func isOfficial2019(_ names: some Sequence<String>) -> Bool {
        var hasBareStem = false
        for name in names {
            if name.hasPrefix("backbone.") { return false }
            if name == "conv1.weight" { hasBareStem = true }
        }
        return hasBareStem
    }

    /// The mmpose name for a 2019-release name; `poseWarper` decides where `final_layer` goes.
    public static func mmposeName(_ name: String, poseWarper: Bool) -> String {
        if name.hasPrefix("final_layer.") {
            return (poseWarper ? "neck.trans_layer." : "keypoint_head.final_layer.") + name.dropFirst("final_layer.".count)
        }
        if name.hasPrefix("offset_feats.") { return "neck." + name }
        for (old, new) in [("offsets", "neck.offset_layers."), ("deform_conv", "neck.deform_conv_layers.")] {
            if name.hasPrefix(old), let dot = name.firstIndex(of: "."),
               let j = Int(name[name.index(name.startIndex, offsetBy: old.count)..<dot]), j >= 1 {
                return new + String(j - 1) + name[dot...]
            }
        }
        return "backbone." + name
    }

    /// Renames a whole 2019-release name list: mmpose name → release name (the family decides
    /// `poseWarper`).
    public static func mmposeNames(_ names: [String], poseWarper: Bool) -> [String: String] {
        var map: [String: String] = [:]
        for name in names { map[mmposeName(name, poseWarper: poseWarper)] = name }
        return map
    }

    /// Names that already are mmpose's, each mapped to itself.
    public static func identity(_ names: [String]) -> [String: String] {
        Dictionary(names.map { ($0, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

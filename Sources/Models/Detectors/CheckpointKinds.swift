/// Telling pose checkpoints and detector checkpoints apart, so that one passed in the other's place is
/// refused with an error that says what the file is.
extension PoseModel {
    /// "an HRNet top-down pose model" / "a PoseWarper pose model" when the names look like one, else nil.
    static func recognisedPoseModel(_ shapes: [String: [Int]]) -> String? {
        let names = Set(shapes.keys)
        if names.contains("neck.trans_layer.weight") || names.contains("offsets1.weight") { return "a PoseWarper pose model" }
        if names.contains("keypoint_head.final_layer.weight") || names.contains("backbone.stage2.0.branches.0.0.conv1.weight")
            || names.contains("final_layer.weight") {
            return "an HRNet top-down pose model"
        }
        return nil
    }

    /// The error for a detector checkpoint given where a pose model is expected, or nil when it is not one.
    static func notAPoseModel(_ shapes: [String: [Int]], file: String) -> ModelError? {
        guard DetectorDescription.looksLikeDetector(Set(shapes.keys)) else { return nil }
        let family = shapes.keys.contains { $0.contains("rtm_cls") } ? "an RTMDet" : "a YOLOX"
        return ModelError("\(file): this is \(family) person detector checkpoint, not a pose model (use it as the detector: --detector / persons.detector)")
    }
}

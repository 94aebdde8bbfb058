/// Pre- and post-processing of a person detector: every part a setting, because releases and
/// re-exports differ. `defaults(for:)` gives each family's and layout's official test pipeline.
public struct DetectorSettings: Equatable, Sendable {
    public enum ChannelOrder: String, Sendable, CaseIterable { case bgr, rgb }
    /// Where the resized image sits in the padded input.
    public enum Letterbox: String, Sendable, CaseIterable { case topLeft = "top_left", center }
    /// How the resized size is rounded, which also fixes how boxes map back: `floor` (Megvii's
    /// preproc: int(w·r), boxes / r) or `round` (mmdet's Resize: int(w·r + 0.5), boxes / (new/old) per axis).
    public enum ScaleRounding: String, Sendable, CaseIterable { case floor, round }

    /// Network input [width, height] (multiples of 32).
    public var inputWidth: Int
    public var inputHeight: Int
    public var channelOrder: ChannelOrder
    /// Per channel (in `channelOrder`), on 0–255 values: (v − mean) / std.
    public var mean: [Float]
    public var std: [Float]
    public var letterbox: Letterbox
    /// The padding's value on 0–255 (before mean/std).
    public var padValue: Float
    public var scaleRounding: ScaleRounding
    /// Boxes below this score are dropped (YOLOX: obj × cls ≥ t; RTMDet: cls > t, as each release).
    public var scoreThreshold: Float
    /// Greedy NMS drops a box whose IoU with a kept, higher-scored box exceeds this.
    public var nmsThreshold: Float
    /// At most this many boxes per frame, the highest-scored.
    public var maxDetections: Int
    /// The class index that means "person" (0 in COCO and in the single-class person releases).
    public var personClass: Int
    /// RTMDet: exp() on the regression before the stride (the release's m / l / x configs); not stored in checkpoints.
    public var expOnRegression: Bool

    /// The official test pipeline of the family and layout, sized for the checkpoint.
    public static func defaults(for d: DetectorDescription) -> DetectorSettings {
        let small = ["nano", "tiny"].contains(d.sizeName)
        switch d.family {
        case .yolox:
            // Megvii ValTransform: BGR 0–255 unnormalised, top-left padding 114, int(w·r); mmdet's port
            // rounds the size. 416 for nano / tiny, 640 otherwise.
            let side = small ? 416 : 640
            return DetectorSettings(inputWidth: side, inputHeight: side, channelOrder: .bgr, mean: [0, 0, 0], std: [1, 1, 1],
                                    letterbox: .topLeft, padValue: 114, scaleRounding: d.layout == .megvii ? .floor : .round,
                                    scoreThreshold: 0.3, nmsThreshold: 0.45, maxDetections: 100, personClass: 0,
                                    expOnRegression: false)
        case .rtmdet:
            // mmdet RTMDet: Resize keep_ratio, Pad 114 bottom/right, BGR with its mean/std; nano person at 320.
            let side = d.sizeName == "nano" ? 320 : 640
            return DetectorSettings(inputWidth: side, inputHeight: side, channelOrder: .bgr, mean: [103.53, 116.28, 123.675],
                                    std: [57.375, 57.12, 58.395], letterbox: .topLeft, padValue: 114, scaleRounding: .round,
                                    scoreThreshold: 0.3, nmsThreshold: 0.45, maxDetections: 300, personClass: 0,
                                    expOnRegression: d.headChannels >= 192)
        }
    }

    /// Why these settings cannot run a model, or nil.
    public func problem(for d: DetectorDescription) -> String? {
        if inputWidth <= 0 || inputHeight <= 0 || inputWidth % d.inputMultiple != 0 || inputHeight % d.inputMultiple != 0 {
            return "input_size must be positive multiples of \(d.inputMultiple), got [\(inputWidth), \(inputHeight)]"
        }
        if mean.count != 3 || std.count != 3 { return "mean and std need 3 values each" }
        if std.contains(where: { !($0 > 0) || !$0.isFinite }) || mean.contains(where: { !$0.isFinite }) { return "std must be positive and mean finite" }
        if !(0...1).contains(scoreThreshold) { return "score_threshold must be in [0, 1], got \(scoreThreshold)" }
        if !(0...1).contains(nmsThreshold) { return "nms_threshold must be in [0, 1], got \(nmsThreshold)" }
        if maxDetections < 1 { return "max_detections must be at least 1" }
        if personClass < 0 || personClass >= d.classes { return "person_class \(personClass) is outside the checkpoint's \(d.classes) classes" }
        return nil
    }
}

import Engine
import Keypoints
import Tensors

extension ModelDescription.Family {
    /// mmpose's TopDown HRNet: backbone + `keypoint_head.final_layer`, one frame.
    public static let topDown = ModelDescription.Family(rawValue: "TopDown")
}

/// HRNet top-down (mmpose `TopDown` with `TopdownHeatmapSimpleHead`, no deconvolutions): the
/// backbone's branch-0 features through one 1×1 conv give the heatmaps; single frame, COCO settings.
public struct HRNetTopDownFamily: PoseModelFamily {
    public init() {}
    public var id: ModelDescription.Family { .topDown }
    public var title: String { "an HRNet top-down pose model" }
    public var signature: String { "'keypoint_head.final_layer.weight' (top-down head)" }
    public var defaultPipeline: String { "hrnet-w32-coco-256x192" }

    public func canonicalNames(_ names: [String]) -> [String: String]? {
        // The 2019 PoseWarper release also names plain HRNets without prefixes (`final_layer` = the head).
        if OfficialNames.isOfficial2019(names) {
            guard names.contains("final_layer.weight") else { return nil }
            return OfficialNames.mmposeNames(names, poseWarper: false)
        }
        guard names.contains("keypoint_head.final_layer.weight") else { return nil }
        return OfficialNames.identity(names)
    }

    public func describe(_ shapes: [String: [Int]]) throws -> ModelDescription {
        let backbone = try ModelDescription.inferHRNet(shapes)
        guard let final = shapes["keypoint_head.final_layer.weight"] else { throw ModelFamilies.unrecognised }
        guard final.count == 4, final[2] == 1, final[3] == 1 else {
            throw ModelError("unrecognised model layout: 'keypoint_head.final_layer.weight' has shape \(final), expected a 1x1 conv")
        }
        let description = ModelDescription(family: id, stemChannels: backbone.stem, stages: backbone.stages, joints: final[0], neck: nil)
        try spec(description, options: PoseWarperOptions()).check(shapes, description)
        return description
    }

    public func problem(with settings: ModelSettings, description: ModelDescription) -> String? {
        if settings.temporal.frameOffsets.count > 1 {
            return "the checkpoint is a single-frame top-down model but the pipeline has a temporal window; use a top-down pipeline file"
        }
        return nil
    }

    public func problem(with options: PoseWarperOptions, description: ModelDescription) -> String? { nil }

    public func spec(_ description: ModelDescription, options: PoseWarperOptions) -> ModelSpec {
        ModelSpec(backbone: BackboneSpec(description), head: TopDownHead.spec(description), neck: nil)
    }

    public func head(_ spec: ModelSpec, description: ModelDescription, options: PoseWarperOptions,
                     read: @escaping WeightReader) throws -> HeatmapHead {
        TopDownHead(finalLayer: try Conv2d.make(spec.head!, read))
    }

    public func defaultSchema(joints: Int) -> KeypointSchema? { joints == 17 ? .coco17 : nil }
}

/// `keypoint_head.final_layer`: features → heatmaps, per crop.
final class TopDownHead: HeatmapHead {
    let finalLayer: Conv2d
    init(finalLayer: Conv2d) { self.finalLayer = finalLayer }

    static func spec(_ d: ModelDescription) -> ConvSpec {
        ConvSpec(name: "keypoint_head.final_layer", shape: [d.joints, d.featureChannels, 1, 1], bias: true)
    }

    var framesPerSample: Int { 1 }
    func encode(_ features: Tensor) -> Tensor { finalLayer(features) }
    func combine(_ encodings: [Tensor]) -> Tensor { encodings[0] }
}

import Engine
import Keypoints
import Tensors

extension ModelDescription.Family {
    /// mmpose's PoseWarper: HRNet backbone + `PoseWarperNeck`, a temporal window of frames.
    public static let poseWarper = ModelDescription.Family(rawValue: "PoseWarper")
}

/// PoseWarper (mmpose 0.x `PoseWarper` + `PoseWarperNeck`, or the 2019 release's names): per-frame
/// HRNet features, heatmaps warped from the support frames onto the current one; PoseTrack18 settings.
public struct PoseWarperFamily: PoseModelFamily {
    public init() {}
    public var id: ModelDescription.Family { .poseWarper }
    public var title: String { "a PoseWarper pose model" }
    public var signature: String { "'neck.trans_layer.weight' (PoseWarper neck)" }
    public var defaultPipeline: String { "posewarper-hrnet-w48-posetrack18-384x288" }

    public func canonicalNames(_ names: [String]) -> [String: String]? {
        if OfficialNames.isOfficial2019(names) {
            guard names.contains(where: { $0.hasPrefix("offsets1.") || $0.hasPrefix("offset_feats.") }) else { return nil }
            return OfficialNames.mmposeNames(names, poseWarper: true)
        }
        guard names.contains("neck.trans_layer.weight") else { return nil }
        return OfficialNames.identity(names)
    }

    public func describe(_ shapes: [String: [Int]]) throws -> ModelDescription {
        let backbone = try ModelDescription.inferHRNet(shapes)
        guard let trans = shapes["neck.trans_layer.weight"] else { throw ModelFamilies.unrecognised }
        guard trans.count == 4, trans[2] == trans[3], trans[2] == 1 || trans[2] == 3 else {
            throw ModelError("unrecognised model layout: 'neck.trans_layer.weight' has shape \(trans)")
        }
        func count(_ name: (Int) -> String) -> Int {
            var n = 0
            while shapes[name(n)] != nil { n += 1 }
            return n
        }
        let blocks = count { "neck.offset_feats.\($0).conv1.weight" }
        let offsetLayers = count { "neck.offset_layers.\($0).weight" }
        guard blocks > 0, offsetLayers > 0, let inner = shapes["neck.offset_feats.0.conv1.weight"]?.first,
              let offsets = shapes["neck.offset_layers.0.weight"] else {
            throw ModelError("unrecognised model layout: a PoseWarper neck needs 'neck.offset_feats.0.conv1.weight' and 'neck.offset_layers.0.weight'")
        }
        guard offsets.count == 4, offsets[2] == 3, offsets[3] == 3, offsets[0] % 18 == 0 else {
            throw ModelError("unrecognised model layout: 'neck.offset_layers.0.weight' has shape \(offsets), expected [18·groups, C, 3, 3]")
        }
        let neck = ModelDescription.Neck(channels: inner, blocks: blocks, transKernel: trans[2], offsetLayers: offsetLayers,
                                         deformGroups: offsets[0] / 18)
        let description = ModelDescription(family: id, stemChannels: backbone.stem, stages: backbone.stages, joints: trans[0], neck: neck)
        // Dilations do not change any shape: any list of the right length checks the layout.
        try spec(description, options: PoseWarperOptions(dilations: Array(repeating: 1, count: offsetLayers)))
            .check(shapes, description)
        return description
    }

    public func problem(with settings: ModelSettings, description: ModelDescription) -> String? {
        if settings.temporal.frameOffsets.count < 2 {
            return "the checkpoint is a PoseWarper but the pipeline has no temporal section; use a PoseWarper pipeline file"
        }
        if let neck = description.neck, neck.offsetLayers != settings.temporal.dilations.count {
            return "temporal.dilations has \(settings.temporal.dilations.count) values but the checkpoint's neck has \(neck.offsetLayers) offset layers"
        }
        if settings.flipTest { return "flip_test is not supported for PoseWarper (mmpose's stage-2 config has it off)" }
        return nil
    }

    public func problem(with options: PoseWarperOptions, description: ModelDescription) -> String? {
        if let neck = description.neck, neck.offsetLayers != options.dilations.count {
            return "the checkpoint has \(neck.offsetLayers) offset layers but \(options.dilations.count) dilations were given (\(options.dilations))"
        }
        return nil
    }

    public func spec(_ description: ModelDescription, options: PoseWarperOptions) -> ModelSpec {
        ModelSpec(backbone: BackboneSpec(description), head: nil,
                  neck: NeckSpec(description, neck: description.neck!, dilations: options.dilations))
    }

    public func head(_ spec: ModelSpec, description: ModelDescription, options: PoseWarperOptions,
                     read: @escaping WeightReader) throws -> HeatmapHead {
        try PoseWarperNeckLayer(spec.neck!, deformGroups: description.neck!.deformGroups, frameWeights: options.frameWeights, read)
    }

    /// The mmpose PoseWarper release is PoseTrack18 (slots 1/2 = head_bottom/head_top).
    public func defaultSchema(joints: Int) -> KeypointSchema? { joints == 17 ? .posetrack18 : nil }
}

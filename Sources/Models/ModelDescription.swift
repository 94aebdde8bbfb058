import Foundation

/// The architecture of an mmpose HRNet top-down or PoseWarper checkpoint, inferred from its
/// parameter names and shapes alone (no config file needed).
public struct ModelDescription: Codable, Equatable, Sendable {
    /// Residual block types of mmpose (`BASIC`, expansion 1; `BOTTLENECK`, expansion 4).
    public enum Block: String, Codable, Sendable {
        case basic = "BASIC", bottleneck = "BOTTLENECK"
        var expansion: Int { self == .basic ? 1 : 4 }
    }

    /// One HRNet stage as mmpose's `extra.stageN` config.
    public struct Stage: Codable, Equatable, Sendable {
        public var block: Block
        public var modules: Int
        public var blocks: [Int]          // per branch
        public var channels: [Int]        // per branch, before block expansion
        public var multiscaleOutput: Bool // false: the last module fuses into branch 0 only
        public var branches: Int { channels.count }
        public var outChannels: [Int] { channels.map { $0 * block.expansion } }
    }

    /// PoseWarperNeck hyper-parameters present in the weights.
    public struct Neck: Codable, Equatable, Sendable {
        public var channels: Int          // inner_channels of the offset residual blocks
        public var blocks: Int            // number of BasicBlocks in offset_feats
        public var transKernel: Int       // trans_layer kernel (1 or 3)
        public var offsetLayers: Int      // one per dilation
        public var deformGroups: Int
    }

    /// A model family's identifier (`ModelFamily.id`); each family's file declares its own.
    public struct Family: RawRepresentable, Codable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
    }

    public var family: Family
    public var backbone: String = "HRNet"
    public var stemChannels: Int
    /// stage1 (layer1) then stages 2, 3, 4.
    public var stages: [Stage]
    public var joints: Int
    public var neck: Neck?

    /// Output widths of the branches of the last stage (HRNet-W48: [48, 96, 192, 384]).
    public var widths: [Int] { stages.last!.outChannels }
    /// Channels of the backbone output that the head / neck reads (branch 0 of the last stage).
    public var featureChannels: Int { widths[0] }

    /// Infers the description from mmpose-named shapes (the family from `ModelFamilies`); throws for
    /// layouts no family builds.
    public static func infer(shapes: [String: [Int]]) throws -> ModelDescription {
        try ModelFamilies.describe(shapes).description
    }

    /// The HRNet backbone of mmpose-named shapes (stem width, stages), shared by the HRNet families.
    static func inferHRNet(_ shapes: [String: [Int]]) throws -> (stem: Int, stages: [Stage]) {
        func shape(_ name: String) throws -> [Int] {
            guard let s = shapes[name] else { throw ModelError("unrecognised model layout: no '\(name)'") }
            return s
        }
        func count(_ prefix: (Int) -> String) -> Int {
            var n = 0
            while shapes[prefix(n)] != nil { n += 1 }
            return n
        }
        let stem = try shape("backbone.conv1.weight")
        guard stem.count == 4, stem[1] == 3, shapes["backbone.conv2.weight"] != nil else {
            throw ModelError("unrecognised model layout: 'backbone.conv1.weight' has shape \(stem), expected [C, 3, 3, 3]")
        }
        func blockInfo(_ prefix: String) throws -> (Block, Int) {
            if let c3 = shapes[prefix + ".conv3.weight"], c3.count == 4 { return (.bottleneck, c3[0] / 4) }
            let c1 = try shape(prefix + ".conv1.weight")
            return (.basic, c1[0])
        }
        var stages: [Stage] = []
        let layer1Blocks = count { "backbone.layer1.\($0).conv1.weight" }
        guard layer1Blocks > 0 else { throw ModelError("unrecognised model layout: no 'backbone.layer1.0.conv1.weight' (not an HRNet)") }
        let (block1, channels1) = try blockInfo("backbone.layer1.0")
        stages.append(Stage(block: block1, modules: 1, blocks: [layer1Blocks], channels: [channels1], multiscaleOutput: true))
        for s in 2...4 {
            let modules = count { "backbone.stage\(s).\($0).branches.0.0.conv1.weight" }
            let branches = count { "backbone.stage\(s).0.branches.\($0).0.conv1.weight" }
            guard modules > 0, branches > 0 else {
                throw ModelError("unrecognised model layout: no 'backbone.stage\(s).0.branches.0.0.conv1.weight' (not a 4-stage HRNet)")
            }
            var blocks: [Int] = [], channels: [Int] = []
            var block = Block.basic
            for b in 0..<branches {
                blocks.append(count { "backbone.stage\(s).0.branches.\(b).\($0).conv1.weight" })
                let (kind, c) = try blockInfo("backbone.stage\(s).0.branches.\(b).0")
                block = kind
                channels.append(c)
            }
            var lastFuseRows = 0
            let fusePrefix = "backbone.stage\(s).\(modules - 1).fuse_layers."
            while shapes.keys.contains(where: { $0.hasPrefix(fusePrefix + "\(lastFuseRows).") }) { lastFuseRows += 1 }
            let multiscale = branches == 1 || lastFuseRows == branches
            stages.append(Stage(block: block, modules: modules, blocks: blocks, channels: channels, multiscaleOutput: multiscale))
        }
        return (stem[0], stages)
    }

    /// A short JSON-able summary, e.g. for `posewarper inspect --json`.
    public var summary: [String: Any] {
        var out: [String: Any] = [
            "family": family.rawValue, "backbone": backbone, "widths": widths, "joints": joints,
            "stages": stages.enumerated().map { i, s in
                ["stage": i + 1, "block": s.block.rawValue, "modules": s.modules, "blocks": s.blocks, "channels": s.channels] as [String: Any]
            },
        ]
        if let neck {
            out["neck"] = ["channels": neck.channels, "blocks": neck.blocks, "offsetLayers": neck.offsetLayers,
                           "deformGroups": neck.deformGroups, "transKernel": neck.transKernel] as [String: Any]
        }
        return out
    }

    /// `summary` as compact JSON with sorted keys.
    public var summaryJSON: String {
        let data = (try? JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// One line for humans: "PoseWarper HRNet-W48 (17 joints, neck 128×20)".
    public var title: String {
        var s = "\(family.rawValue) HRNet-W\(widths[0]) (\(joints) joints"
        if let neck { s += ", neck \(neck.channels) channels × \(neck.blocks) blocks" }
        return s + ")"
    }
}

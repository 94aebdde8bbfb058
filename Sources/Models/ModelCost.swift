import Tensors

/// Multiply-accumulates of the computation mmpose performs (nominal work: every frame's
/// offset features, all five deformable convs), from the layer specs and the input size.
public struct ModelCost: Sendable, Equatable {
    /// One backbone pass (one image).
    public var backbone: Int
    /// keypoint_head.final_layer (top-down), per image.
    public var head: Int
    /// The whole neck for one person: trans_layer × frames, offset_feats × frames,
    /// offset convs × frames × dilations, deformable convs × frames × dilations.
    public var neck: Int
    public var neckResidualBlocks: Int
    public var neckOffsetConvs: Int
    public var neckDeformConvs: Int
    /// Per person and output frame: frames × backbone + neck (PoseWarper) or backbone + head.
    public var total: Int
}

extension ModelSpec {
    func cost(height: Int, width: Int, frames: Int) -> ModelCost {
        var backbone = 0
        func run(_ conv: ConvSpec, _ h: Int, _ w: Int) -> (Int, Int) {
            let c = conv.macs(h: h, w: w)
            backbone += c.macs
            return (c.h, c.w)
        }
        func blocks(_ list: [BlockSpec], _ h: Int, _ w: Int) -> (Int, Int) {
            var size = (h, w)
            for block in list {
                let start = size
                for conv in block.convs { size = run(conv, size.0, size.1) }
                if let d = block.downsample { _ = run(d, start.0, start.1) }
            }
            return size
        }
        var size = (height, width)
        for conv in self.backbone.stem { size = run(conv, size.0, size.1) }
        size = blocks(self.backbone.layer1, size.0, size.1)
        var sizes = [size]
        for (trans, modules) in zip(self.backbone.transitions, self.backbone.stages) {
            var next: [(Int, Int)] = []
            for (i, chain) in trans.enumerated() {
                guard let chain else { next.append(sizes[i]); continue }
                var s = sizes[sizes.count - 1]
                for conv in chain { s = run(conv, s.0, s.1) }
                next.append(s)
            }
            sizes = next
            for module in modules {
                for (b, branch) in module.branches.enumerated() { _ = blocks(branch, sizes[b].0, sizes[b].1) }
                for row in module.fuse {
                    for (j, path) in row.enumerated() {
                        switch path {
                        case .up(let conv, _)?: _ = run(conv, sizes[j].0, sizes[j].1)
                        case .down(let chain)?:
                            var s = sizes[j]
                            for conv in chain { s = run(conv, s.0, s.1) }
                        case nil: break
                        }
                    }
                }
                if module.fuse.count == 1 { sizes = [sizes[0]] }
            }
        }
        let (h4, w4) = sizes[0]
        let headMacs = head?.macs(h: h4, w: w4).macs ?? 0
        var cost = ModelCost(backbone: backbone, head: headMacs, neck: 0, neckResidualBlocks: 0, neckOffsetConvs: 0,
                             neckDeformConvs: 0, total: backbone + headMacs)
        if let neck {
            let f = frames
            let residual = neck.offsetFeats.flatMap(\.allConvs).reduce(0) { $0 + $1.macs(h: h4, w: w4).macs }
            let offsets = neck.offsetLayers.reduce(0) { $0 + $1.macs(h: h4, w: w4).macs }
            let deform = neck.deformConvs.reduce(0) { $0 + $1.macs(h: h4, w: w4).macs }
            cost.neckResidualBlocks = f * residual
            cost.neckOffsetConvs = f * offsets
            cost.neckDeformConvs = f * deform
            cost.neck = f * (neck.trans.macs(h: h4, w: w4).macs + residual + offsets + deform)
            cost.total = f * backbone + cost.neck
        }
        return cost
    }
}

extension ModelDescription {
    /// The standard mmpose HRNet-W`widths[0]` layout (stem 64, Bottleneck×4 of 64, modules 1/4/3,
    /// 4 BasicBlocks per branch), with a top-down head or a PoseWarper neck.
    public static func hrnet(widths: [Int], joints: Int = 17, poseWarperNeck: (channels: Int, blocks: Int)? = nil) -> ModelDescription {
        precondition(widths.count == 4, "HRNet has 4 branch widths")
        let stages = [
            Stage(block: .bottleneck, modules: 1, blocks: [4], channels: [64], multiscaleOutput: true),
            Stage(block: .basic, modules: 1, blocks: [4, 4], channels: Array(widths[0..<2]), multiscaleOutput: true),
            Stage(block: .basic, modules: 4, blocks: [4, 4, 4], channels: Array(widths[0..<3]), multiscaleOutput: true),
            Stage(block: .basic, modules: 3, blocks: [4, 4, 4, 4], channels: widths, multiscaleOutput: false),
        ]
        let neck = poseWarperNeck.map { Neck(channels: $0.channels, blocks: $0.blocks, transKernel: 1, offsetLayers: 5, deformGroups: joints) }
        return ModelDescription(family: neck == nil ? .topDown : .poseWarper, stemChannels: 64, stages: stages, joints: joints, neck: neck)
    }

    /// The parameter shapes (mmpose names) a checkpoint of this description holds.
    public func parameterShapes(dilationCount: Int = 5) -> [String: [Int]] {
        let spec = layout(dilationCount: dilationCount)
        var shapes: [String: [Int]] = [:]
        for (key, shape, _) in spec.keys { shapes[key] = shape }
        return shapes
    }

    /// Nominal multiply-accumulates for an input of `height`×`width` (PoseWarper: per person with
    /// `frames` frames).
    public func cost(height: Int, width: Int, frames: Int = 5) -> ModelCost {
        layout(dilationCount: 5).cost(height: height, width: width, frames: frames)
    }

    /// The parameter layout its family builds (dilations do not change shapes or costs).
    func layout(dilationCount: Int) -> ModelSpec {
        guard let family = ModelFamilies.family(family) as? PoseModelFamily else {
            preconditionFailure("no registered pose model family '\(family.rawValue)'")
        }
        return family.spec(self, options: PoseWarperOptions(dilations: Array(repeating: 1, count: neck?.offsetLayers ?? dilationCount)))
    }
}

extension PoseModel {
    /// A model with random weights of realistic scale (He-normal convs, BN running_var in
    /// [0.5, 2)), for benchmarks: timing does not depend on the values.
    public static func random(_ description: ModelDescription, options: PoseWarperOptions = .init(), seed: UInt64 = 1) throws -> PoseModel {
        let shapes = description.parameterShapes(dilationCount: options.dilations.count)
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        return try PoseModel(shapes: shapes, options: options, file: "<random \(description.title)>") { name in
            let shape = shapes[name]!
            let n = shape.reduce(1, *)
            if name.hasSuffix("running_var") { return Tensor(shape: shape, storage: (0..<n).map { _ in 0.5 + 1.5 * uniform() }) }
            if name.hasSuffix("running_mean") || name.hasSuffix(".bias") {
                return Tensor(shape: shape, storage: (0..<n).map { _ in 0.2 * (uniform() - 0.5) })
            }
            if shape.count == 4 {
                let fanIn = Float(shape[1] * shape[2] * shape[3])
                let bound = (6 / fanIn).squareRoot() * 0.5
                return Tensor(shape: shape, storage: (0..<n).map { _ in bound * (2 * uniform() - 1) })
            }
            return Tensor(shape: shape, storage: (0..<n).map { _ in 0.5 + 0.5 * uniform() })
        }
    }
}

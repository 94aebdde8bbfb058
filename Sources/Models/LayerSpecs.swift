/// The parameter layout of a model, built from a `ModelDescription` exactly as mmpose 0.x builds
/// its modules: one source for the expected key/shape list (validation) and for construction.

/// A convolution as a checkpoint stores it: `<name>.weight` (+ `.bias`), an optional BatchNorm.
struct ConvSpec {
    let name: String
    let shape: [Int]            // [out, in/groups, kh, kw]
    var bias = false
    var batchNorm: String? = nil
    var stride = 1
    var padding = 0
    var dilation = 1

    var outChannels: Int { shape[0] }

    /// (key, shape, required) for every parameter this conv reads.
    var keys: [(String, [Int], Bool)] {
        var out: [(String, [Int], Bool)] = [(name + ".weight", shape, true)]
        if bias { out.append((name + ".bias", [shape[0]], true)) }
        if let bn = batchNorm {
            for p in ["weight", "bias", "running_mean", "running_var"] { out.append(("\(bn).\(p)", [shape[0]], true)) }
            // Bookkeeping only; old checkpoints (torch < 0.4.1) lack it.
            out.append(("\(bn).num_batches_tracked", [], false))
        }
        return out
    }

    /// MACs for an input of `h`×`w` (returns the output size too).
    func macs(h: Int, w: Int) -> (macs: Int, h: Int, w: Int) {
        let k = shape[2]
        let ho = (h + 2 * padding - dilation * (k - 1) - 1) / stride + 1
        let wo = (w + 2 * padding - dilation * (shape[3] - 1) - 1) / stride + 1
        return (shape[0] * shape[1] * shape[2] * shape[3] * ho * wo, ho, wo)
    }
}

/// mmpose BasicBlock / Bottleneck; `downsample` is the 1x1+BN projection of the skip path.
struct BlockSpec {
    let convs: [ConvSpec]       // conv1, conv2 (, conv3)
    let downsample: ConvSpec?

    static func make(_ prefix: String, _ kind: ModelDescription.Block, cin: Int, cout: Int, stride: Int = 1) -> BlockSpec {
        var convs: [ConvSpec] = []
        switch kind {
        case .basic:
            convs.append(ConvSpec(name: prefix + ".conv1", shape: [cout, cin, 3, 3], batchNorm: prefix + ".bn1", stride: stride, padding: 1))
            convs.append(ConvSpec(name: prefix + ".conv2", shape: [cout, cout, 3, 3], batchNorm: prefix + ".bn2", padding: 1))
        case .bottleneck:
            let mid = cout / 4
            convs.append(ConvSpec(name: prefix + ".conv1", shape: [mid, cin, 1, 1], batchNorm: prefix + ".bn1"))
            convs.append(ConvSpec(name: prefix + ".conv2", shape: [mid, mid, 3, 3], batchNorm: prefix + ".bn2", stride: stride, padding: 1))
            convs.append(ConvSpec(name: prefix + ".conv3", shape: [cout, mid, 1, 1], batchNorm: prefix + ".bn3"))
        }
        let downsample = (stride != 1 || cin != cout)
            ? ConvSpec(name: prefix + ".downsample.0", shape: [cout, cin, 1, 1], batchNorm: prefix + ".downsample.1", stride: stride)
            : nil
        return BlockSpec(convs: convs, downsample: downsample)
    }

    /// mmpose `_make_layer` / `_make_one_branch`: the first block projects, the rest keep `cout`.
    static func sequence(_ prefix: String, _ kind: ModelDescription.Block, cin: Int, cout: Int, count: Int) -> [BlockSpec] {
        (0..<count).map { make("\(prefix).\($0)", kind, cin: $0 == 0 ? cin : cout, cout: cout) }
    }

    var allConvs: [ConvSpec] { convs + (downsample.map { [$0] } ?? []) }
}

/// A fuse path of an HRModule from branch j into branch i.
enum FusePathSpec {
    /// j > i: 1x1 conv + BN, then nearest upsampling by `factor` = 2^(j−i).
    case up(ConvSpec, factor: Int)
    /// j < i: stride-2 3x3 conv + BN chain, ReLU between steps but not after the last.
    case down([ConvSpec])
}

struct HRModuleSpec {
    let branches: [[BlockSpec]]
    let fuse: [[FusePathSpec?]]     // [output i][input j]; empty for a single branch
}

struct BackboneSpec {
    let stem: [ConvSpec]
    let layer1: [BlockSpec]
    /// transitions[s][i]: nil = identity on branch i; else a conv chain on the LAST previous branch.
    let transitions: [[[ConvSpec]?]]
    let stages: [[HRModuleSpec]]

    init(_ d: ModelDescription) {
        let c = d.stemChannels
        stem = [
            ConvSpec(name: "backbone.conv1", shape: [c, 3, 3, 3], batchNorm: "backbone.bn1", stride: 2, padding: 1),
            ConvSpec(name: "backbone.conv2", shape: [c, c, 3, 3], batchNorm: "backbone.bn2", stride: 2, padding: 1),
        ]
        let s1 = d.stages[0]
        layer1 = BlockSpec.sequence("backbone.layer1", s1.block, cin: c, cout: s1.outChannels[0], count: s1.blocks[0])
        var pre = s1.outChannels
        var transitions: [[[ConvSpec]?]] = []
        var stages: [[HRModuleSpec]] = []
        for (index, stage) in d.stages.dropFirst().enumerated() {
            let s = index + 2
            let cur = stage.outChannels
            var trans: [[ConvSpec]?] = []
            for i in 0..<cur.count {
                let prefix = "backbone.transition\(s - 1).\(i)"
                if i < pre.count {
                    trans.append(cur[i] == pre[i] ? nil : [
                        ConvSpec(name: prefix + ".0", shape: [cur[i], pre[i], 3, 3], batchNorm: prefix + ".1", padding: 1),
                    ])
                } else {
                    trans.append((0..<(i + 1 - pre.count)).map { j in
                        let out = j == i - pre.count ? cur[i] : pre.last!
                        return ConvSpec(name: "\(prefix).\(j).0", shape: [out, pre.last!, 3, 3], batchNorm: "\(prefix).\(j).1",
                                        stride: 2, padding: 1)
                    })
                }
            }
            transitions.append(trans)
            var modules: [HRModuleSpec] = []
            for m in 0..<stage.modules {
                let prefix = "backbone.stage\(s).\(m)"
                let branches = (0..<stage.branches).map { b in
                    BlockSpec.sequence("\(prefix).branches.\(b)", stage.block, cin: cur[b], cout: cur[b], count: stage.blocks[b])
                }
                let outputs = stage.branches == 1 ? 0 : (stage.multiscaleOutput || m < stage.modules - 1 ? stage.branches : 1)
                let fuse: [[FusePathSpec?]] = (0..<outputs).map { i in
                    (0..<stage.branches).map { j -> FusePathSpec? in
                        let p = "\(prefix).fuse_layers.\(i).\(j)"
                        if j > i {
                            return .up(ConvSpec(name: p + ".0", shape: [cur[i], cur[j], 1, 1], batchNorm: p + ".1"), factor: 1 << (j - i))
                        } else if j == i {
                            return nil
                        }
                        return .down((0..<(i - j)).map { k in
                            let out = k == i - j - 1 ? cur[i] : cur[j]
                            return ConvSpec(name: "\(p).\(k).0", shape: [out, cur[j], 3, 3], batchNorm: "\(p).\(k).1", stride: 2, padding: 1)
                        })
                    }
                }
                modules.append(HRModuleSpec(branches: branches, fuse: fuse))
            }
            stages.append(modules)
            pre = cur
        }
        self.transitions = transitions
        self.stages = stages
    }

    var allConvs: [ConvSpec] {
        var out = stem + layer1.flatMap(\.allConvs)
        for (trans, modules) in zip(transitions, stages) {
            out += trans.compactMap { $0 }.flatMap { $0 }
            for module in modules {
                out += module.branches.flatMap { $0.flatMap(\.allConvs) }
                for row in module.fuse {
                    for path in row {
                        switch path {
                        case .up(let conv, _): out.append(conv)
                        case .down(let chain): out += chain
                        case nil: break
                        }
                    }
                }
            }
        }
        return out
    }
}

struct NeckSpec {
    let trans: ConvSpec
    let offsetFeats: [BlockSpec]
    let offsetLayers: [ConvSpec]
    let deformConvs: [ConvSpec]     // DCNv1, no bias; deform groups from the description

    init(_ d: ModelDescription, neck: ModelDescription.Neck, dilations: [Int]) {
        let k = d.joints
        trans = ConvSpec(name: "neck.trans_layer", shape: [k, d.featureChannels, neck.transKernel, neck.transKernel], bias: true,
                         padding: neck.transKernel / 2)
        offsetFeats = BlockSpec.sequence("neck.offset_feats", .basic, cin: k, cout: neck.channels, count: neck.blocks)
        offsetLayers = dilations.enumerated().map { j, dil in
            ConvSpec(name: "neck.offset_layers.\(j)", shape: [18 * neck.deformGroups, neck.channels, 3, 3], padding: dil, dilation: dil)
        }
        deformConvs = dilations.enumerated().map { j, dil in
            ConvSpec(name: "neck.deform_conv_layers.\(j)", shape: [k, k, 3, 3], padding: dil, dilation: dil)
        }
    }

    var allConvs: [ConvSpec] { [trans] + offsetFeats.flatMap(\.allConvs) + offsetLayers + deformConvs }
}

/// Everything a checkpoint must contain for one description (its family builds it).
public struct ModelSpec {
    let backbone: BackboneSpec
    let head: ConvSpec?
    let neck: NeckSpec?

    /// Throws when the shapes do not fit this layout exactly, listing every offending key.
    func check(_ shapes: [String: [Int]], _ description: ModelDescription) throws {
        if let mismatch = mismatch(shapes) {
            throw ModelError("does not match the \(description.title) layout inferred from it: \(mismatch)")
        }
    }

    /// (key, shape, required) for every parameter, in construction order.
    var keys: [(String, [Int], Bool)] {
        (backbone.allConvs + (head.map { [$0] } ?? []) + (neck?.allConvs ?? [])).flatMap(\.keys)
    }

    /// Compares a checkpoint's (mmpose-named) shapes against this layout; nil when they match.
    func mismatch(_ shapes: [String: [Int]]) -> String? {
        var missing: [String] = [], misshaped: [String] = []
        var expected = Set<String>()
        for (key, shape, required) in keys {
            expected.insert(key)
            guard let actual = shapes[key] else {
                if required { missing.append(key) }
                continue
            }
            // A 0-d tensor may be stored as [1] by some exporters; anything else must match exactly.
            if actual != shape && !(shape.isEmpty && actual == [1]) {
                misshaped.append("\(key) \(actual) (expected \(shape))")
            }
        }
        let unexpected = shapes.keys.filter { !expected.contains($0) }.sorted()
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
        if !misshaped.isEmpty { parts.append("mis-shaped keys: " + misshaped.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

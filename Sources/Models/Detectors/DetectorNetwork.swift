import Engine
import Tensors

/// CSPDarknet (YOLOX: Focus stem) or CSPNeXt (RTMDet: three-conv stem, channel attention); the
/// outputs of stages 2, 3 and 4 (strides 8, 16, 32).
final class DetectorBackbone {
    private let focus: Bool
    private let stem: [ConvModuleLayer]
    private let downsamples: [ConvUnit]
    private let spp: SPPLayer
    private let csp: [CSPLayerNet]

    init(_ w: DetectorWeights, _ d: DetectorDescription) throws {
        let rtm = d.family == .rtmdet
        focus = !rtm
        if rtm {
            stem = try (0..<3).map { i in
                try ConvModuleLayer(w, "backbone.stem.\(i)", i == 0 ? 3 : d.stemChannels[i - 1], d.stemChannels[i],
                                    kernel: 3, stride: i == 0 ? 2 : 1)
            }
        } else {
            stem = [try ConvModuleLayer(w, "backbone.stem.conv", 12, d.stemChannels[0], kernel: 3)]
        }
        var cin = d.stemChannels.last!
        var downs: [ConvUnit] = [], csps: [CSPLayerNet] = []
        for s in 0..<4 {
            let cout = d.stageChannels[s]
            downs.append(try ConvUnit(w, "backbone.stage\(s + 1).0", cin, cout, kernel: 3, stride: 2, separable: d.depthwise))
            csps.append(try CSPLayerNet(w, "backbone.stage\(s + 1).\(s == 3 ? 2 : 1)", cout, cout, blocks: d.stageBlocks[s],
                                        add: s < 3, depthwise: d.depthwise, cspnext: rtm, attention: d.channelAttention))
            cin = cout
        }
        spp = try SPPLayer(w, "backbone.stage4.1", d.stageChannels[3], d.stageChannels[3])
        downsamples = downs
        csp = csps
    }

    func callAsFunction(_ input: Tensor) -> [Tensor] {
        var x = focus ? spaceToDepth(input) : input
        for conv in stem { x = conv(x) }
        var outs: [Tensor] = []
        for s in 0..<4 {
            x = downsamples[s](x)
            if s == 3 { x = spp(x) }
            x = csp[s](x)
            if s >= 1 { outs.append(x) }
        }
        return outs
    }
}

/// YOLOXPAFPN / CSPNeXtPAFPN: top-down (reduce, upsample ×2, concat, CSP), bottom-up (stride-2 conv,
/// concat with the reduced map, CSP), then one out conv per level (1×1 YOLOX, 3×3 RTMDet).
final class DetectorNeck {
    private let reduce: [ConvModuleLayer], topDown: [CSPLayerNet]
    private let downsample: [ConvUnit], bottomUp: [CSPLayerNet]
    private let outConvs: [ConvUnit]

    init(_ w: DetectorWeights, _ d: DetectorDescription) throws {
        let c = Array(d.stageChannels[1...3]), rtm = d.family == .rtmdet
        reduce = try [2, 1].enumerated().map { j, i in try ConvModuleLayer(w, "neck.reduce_layers.\(j)", c[i], c[i - 1], kernel: 1) }
        topDown = try [2, 1].enumerated().map { j, i in
            try CSPLayerNet(w, "neck.top_down_blocks.\(j)", 2 * c[i - 1], c[i - 1], blocks: d.neckBlocks, add: false,
                            depthwise: d.neckBlocksDepthwise, cspnext: rtm, attention: false)
        }
        downsample = try [0, 1].map { i in
            try ConvUnit(w, "neck.downsamples.\(i)", c[i], c[i], kernel: 3, stride: 2, separable: d.depthwise)
        }
        bottomUp = try [0, 1].map { i in
            try CSPLayerNet(w, "neck.bottom_up_blocks.\(i)", 2 * c[i], c[i + 1], blocks: d.neckBlocks, add: false,
                            depthwise: d.neckBlocksDepthwise, cspnext: rtm, attention: false)
        }
        outConvs = try (0..<3).map { i in
            try ConvUnit(w, "neck.out_convs.\(i)", c[i], d.neckChannels, kernel: rtm ? 3 : 1, separable: d.neckOutDepthwise)
        }
    }

    func callAsFunction(_ xs: [Tensor]) -> [Tensor] {
        var inner = [xs[2]]
        for (j, i) in [2, 1].enumerated() {
            let high = reduce[j](inner[0])
            inner[0] = high
            inner.insert(topDown[j](concatChannels([upsampleNearest(high, factor: 2), xs[i - 1]])), at: 0)
        }
        var outs = [inner[0]]
        for i in 0..<2 {
            outs.append(bottomUp[i](concatChannels([downsample[i](outs[i]), inner[i + 1]])))
        }
        return zip(outConvs, outs).map { $0($1) }
    }
}

/// The raw head outputs of one level: class logits [N, classes, h, w], box regression [N, 4, h, w]
/// (YOLOX: dx, dy, log w, log h in strides; RTMDet: left, top, right, bottom distances before exp/stride)
/// and, for YOLOX, objectness logits [N, 1, h, w].
public struct DetectorLevelOutput: Sendable {
    public var classes: Tensor
    public var boxes: Tensor
    public var objectness: Tensor?
    public var stride: Int
}

/// YOLOX decoupled head (cls / reg branches, obj on the reg branch) or RTMDetSepBNHead (per-level
/// convs and BN; the release shares the conv weights across levels and stores a copy per level).
final class DetectorHead {
    private let cls: [[ConvUnit]], reg: [[ConvUnit]]
    private let clsPred: [Conv2d], regPred: [Conv2d], objPred: [Conv2d]?
    private let strides: [Int]

    init(_ w: DetectorWeights, _ d: DetectorDescription) throws {
        let c = d.headChannels, yolox = d.family == .yolox
        func branch(_ kind: String, _ level: Int) throws -> [ConvUnit] {
            let prefix = yolox ? "bbox_head.multi_level_\(kind)_convs.\(level)" : "bbox_head.\(kind)_convs.\(level)"
            return try (0..<d.headConvs).map { i in
                try ConvUnit(w, "\(prefix).\(i)", i == 0 ? d.neckChannels : c, c, kernel: 3, separable: d.headDepthwise)
            }
        }
        func pred(_ name: String, _ out: Int) throws -> Conv2d {
            Conv2d(weight: try w.tensor(name + ".weight", [out, c, 1, 1]), bias: try w.tensor(name + ".bias", [out]))
        }
        cls = try (0..<3).map { try branch("cls", $0) }
        reg = try (0..<3).map { try branch("reg", $0) }
        clsPred = try (0..<3).map { try pred(yolox ? "bbox_head.multi_level_conv_cls.\($0)" : "bbox_head.rtm_cls.\($0)", d.classes) }
        regPred = try (0..<3).map { try pred(yolox ? "bbox_head.multi_level_conv_reg.\($0)" : "bbox_head.rtm_reg.\($0)", 4) }
        objPred = yolox ? try (0..<3).map { try pred("bbox_head.multi_level_conv_obj.\($0)", 1) } : nil
        strides = d.strides
    }

    func callAsFunction(_ xs: [Tensor]) -> [DetectorLevelOutput] {
        xs.enumerated().map { l, x in
            let clsFeat = cls[l].reduce(x) { $1($0) }
            let regFeat = reg[l].reduce(x) { $1($0) }
            return DetectorLevelOutput(classes: clsPred[l](clsFeat), boxes: regPred[l](regFeat),
                                       objectness: objPred.map { $0[l](regFeat) }, stride: strides[l])
        }
    }
}

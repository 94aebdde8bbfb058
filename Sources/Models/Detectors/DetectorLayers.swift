import Engine
import Tensors

/// Reads canonical parameters, checking each against the shape the architecture expects; problems
/// are collected (zeros stand in) so one error can list every missing / mis-shaped / unexpected key.
final class DetectorWeights {
    let layout: DetectorDescription.Layout
    private let shapes: [String: [Int]]          // original names
    private let read: (String) throws -> Tensor   // original names
    /// When set, every parameter is made by this (name, expected shape) instead of read (benchmarks).
    var synthesize: ((String, [Int]) -> Tensor)? = nil
    private(set) var used = Set<String>()
    private(set) var missing: [String] = []
    private(set) var misshaped: [String] = []

    init(layout: DetectorDescription.Layout, shapes: [String: [Int]], read: @escaping (String) throws -> Tensor) {
        self.layout = layout; self.shapes = shapes; self.read = read
    }

    func tensor(_ canonical: String, _ shape: [Int]) throws -> Tensor {
        if let synthesize { return synthesize(canonical, shape) }
        let name = DetectorNames.original(canonical, layout)
        used.insert(name)
        guard let actual = shapes[name] else { missing.append(name); return Tensor(shape: shape) }
        guard actual == shape else { misshaped.append("\(name) \(actual) (expected \(shape))"); return Tensor(shape: shape) }
        return try read(name)
    }

    /// BatchNorm `prefix.{weight,bias,running_mean,running_var}` (+ optional num_batches_tracked).
    func batchNorm(_ prefix: String, _ c: Int) throws -> BatchNorm {
        let tracked = DetectorNames.original(prefix + ".num_batches_tracked", layout)
        if shapes[tracked] != nil { used.insert(tracked) }
        return BatchNorm(weight: try tensor(prefix + ".weight", [c]), bias: try tensor(prefix + ".bias", [c]),
                         runningMean: try tensor(prefix + ".running_mean", [c]), runningVar: try tensor(prefix + ".running_var", [c]),
                         eps: 1e-3)   // both families' norm_cfg (YOLOX: init_yolo; mmdet: eps=0.001)
    }

    /// "missing keys: …; mis-shaped keys: …; unexpected keys: …", or nil when everything fits.
    var problems: String? {
        // mmdet 2.x's EMA hook leaves its copies as top-level `ema_<dotted_name_with_underscores>`
        // buffers; the regular parameters already hold the averaged weights when the file is saved.
        let unexpected = shapes.keys.filter { !used.contains($0) && !($0.hasPrefix("ema_") && !$0.contains(".")) }.sorted()
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
        if !misshaped.isEmpty { parts.append("mis-shaped keys: " + misshaped.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// conv (no bias) + BatchNorm (folded) + SiLU: mmcv's ConvModule, Megvii's BaseConv. Depthwise when groups = channels.
final class ConvModuleLayer {
    private let dense: Conv2d?
    private let depthwise: DepthwiseConv2d?

    init(_ w: DetectorWeights, _ name: String, _ cin: Int, _ cout: Int, kernel k: Int, stride: Int = 1, depthwise dw: Bool = false) throws {
        let weight = try w.tensor(name + ".conv.weight", [cout, dw ? 1 : cin, k, k])
        let bn = try w.batchNorm(name + ".bn", cout)
        if dw {
            depthwise = DepthwiseConv2d(weight: weight, bias: nil, stride: stride, padding: (k - 1) / 2, batchNorm: bn)
            dense = nil
        } else {
            dense = Conv2d(weight: weight, bias: nil, stride: stride, padding: (k - 1) / 2, batchNorm: bn)
            depthwise = nil
        }
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        if let depthwise { return depthwise(x, activation: .silu) }
        var y = dense!(x)
        activate(&y, .silu)
        return y
    }
}

/// A ConvModule, or a depthwise-separable pair (`depthwise_conv` k×k then `pointwise_conv` 1×1).
final class ConvUnit {
    private let steps: [ConvModuleLayer]

    init(_ w: DetectorWeights, _ name: String, _ cin: Int, _ cout: Int, kernel k: Int, stride: Int = 1, separable: Bool) throws {
        if separable {
            steps = [try ConvModuleLayer(w, name + ".depthwise_conv", cin, cin, kernel: k, stride: stride, depthwise: true),
                     try ConvModuleLayer(w, name + ".pointwise_conv", cin, cout, kernel: 1)]
        } else {
            steps = [try ConvModuleLayer(w, name, cin, cout, kernel: k, stride: stride)]
        }
    }

    func callAsFunction(_ x: Tensor) -> Tensor { steps.reduce(x) { $1($0) } }
}

/// YOLOX DarknetBottleneck (1×1 then 3×3) or RTMDet CSPNeXtBlock (3×3 then depthwise-separable 5×5), + identity.
final class CSPBlock {
    private let conv1: ConvUnit, conv2: ConvUnit
    private let add: Bool

    init(_ w: DetectorWeights, _ name: String, _ c: Int, add: Bool, depthwise: Bool, cspnext: Bool) throws {
        if cspnext {
            conv1 = try ConvUnit(w, name + ".conv1", c, c, kernel: 3, separable: depthwise)
            conv2 = try ConvUnit(w, name + ".conv2", c, c, kernel: 5, separable: true)
        } else {
            conv1 = try ConvUnit(w, name + ".conv1", c, c, kernel: 1, separable: false)
            conv2 = try ConvUnit(w, name + ".conv2", c, c, kernel: 3, separable: depthwise)
        }
        self.add = add
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let y = conv2(conv1(x))
        return add ? Engine.add(y, x) : y
    }
}

/// CSP layer: final_conv(cat(blocks(main_conv(x)), short_conv(x))), with optional channel attention
/// (x · hardsigmoid(fc(mean(x)))) before final_conv.
final class CSPLayerNet {
    private let main: ConvModuleLayer, short: ConvModuleLayer, final: ConvModuleLayer
    private let blocks: [CSPBlock]
    private let attention: Conv2d?

    init(_ w: DetectorWeights, _ name: String, _ cin: Int, _ cout: Int, blocks n: Int, add: Bool, depthwise: Bool,
         cspnext: Bool, attention: Bool) throws {
        let mid = cout / 2
        main = try ConvModuleLayer(w, name + ".main_conv", cin, mid, kernel: 1)
        short = try ConvModuleLayer(w, name + ".short_conv", cin, mid, kernel: 1)
        final = try ConvModuleLayer(w, name + ".final_conv", 2 * mid, cout, kernel: 1)
        blocks = try (0..<n).map { try CSPBlock(w, "\(name).blocks.\($0)", mid, add: add, depthwise: depthwise, cspnext: cspnext) }
        self.attention = attention
            ? Conv2d(weight: try w.tensor(name + ".attention.fc.weight", [2 * mid, 2 * mid, 1, 1]),
                     bias: try w.tensor(name + ".attention.fc.bias", [2 * mid]))
            : nil
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let m = blocks.reduce(main(x)) { $1($0) }
        var y = concatChannels([m, short(x)])
        if let attention {
            let pooled = globalAveragePool(y)
            var gate = attention(pooled.reshaped([pooled.shape[0], pooled.shape[1], 1, 1]))
            activate(&gate, .hardSigmoid)
            y = scaleChannels(y, by: gate.reshaped(pooled.shape))
        }
        return final(y)
    }
}

/// SPP bottleneck: conv2(cat(x, maxpool5(x), maxpool9(x), maxpool13(x))) with x = conv1(input).
final class SPPLayer {
    private let conv1: ConvModuleLayer, conv2: ConvModuleLayer

    init(_ w: DetectorWeights, _ name: String, _ cin: Int, _ cout: Int) throws {
        conv1 = try ConvModuleLayer(w, name + ".conv1", cin, cin / 2, kernel: 1)
        conv2 = try ConvModuleLayer(w, name + ".conv2", cin / 2 * 4, cout, kernel: 1)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let y = conv1(x)
        // Stride-1 max pools compose: pool9 = pool5∘pool5 and pool13 = pool5∘pool9, exactly.
        let p5 = maxPoolSame(y, kernel: 5), p9 = maxPoolSame(p5, kernel: 5), p13 = maxPoolSame(p9, kernel: 5)
        return conv2(concatChannels([y, p5, p9, p13]))
    }
}

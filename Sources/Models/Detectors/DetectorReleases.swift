import Tensors

extension DetectorDescription {
    /// The architecture of an official release size, from its depth / width multipliers as the
    /// upstream configs compute channels and block counts (YOLOX: nano … x; RTMDet: nano … x).
    public static func release(_ family: Family, size: String, classes: Int = 80) -> DetectorDescription? {
        // (deepen, widen, depthwise, RTMDet neck blocks)
        let table: [String: (Double, Double, Bool, Int)] = family == .yolox
            ? ["nano": (0.33, 0.25, true, 0), "tiny": (0.33, 0.375, false, 0), "s": (0.33, 0.5, false, 0),
               "m": (0.67, 0.75, false, 0), "l": (1, 1, false, 0), "x": (1.33, 1.25, false, 0)]
            : ["nano": (0.33, 0.25, true, 1), "tiny": (0.167, 0.375, false, 1), "s": (0.33, 0.5, false, 1),
               "m": (0.67, 0.75, false, 2), "l": (1, 1, false, 3), "x": (1.33, 1.25, false, 4)]
        guard let (d, w, dw, neckBlocks) = table[size] else { return nil }
        func width(_ c: Double) -> Int { Int(c * w) }
        func depth(_ n: Double) -> Int { max(Int((n * d).rounded()), 1) }
        let stages = [128.0, 256, 512, 1024].map(width)
        let stem: [Int], blocks: [Int], neck: Int
        switch family {
        case .yolox:
            stem = [width(64)]
            let b = depth(3)
            blocks = [b, 3 * b, 3 * b, b]
            neck = Int((3 * d).rounded())
        case .rtmdet:
            stem = [Int((64 * w / 2).rounded(.down)), Int((64 * w / 2).rounded(.down)), width(64)]
            blocks = [3.0, 6, 6, 3].map(depth)
            neck = neckBlocks
        }
        return DetectorDescription(family: family, layout: .mmdet, stemChannels: stem, stageChannels: stages, stageBlocks: blocks,
                                   neckBlocks: neck, neckChannels: width(256), headChannels: width(256), headConvs: 2,
                                   classes: classes, depthwise: dw, neckBlocksDepthwise: dw, neckOutDepthwise: dw && family == .rtmdet,
                                   headDepthwise: dw, channelAttention: family == .rtmdet)
    }
}

extension DetectorModel {
    /// A network of `description` with random weights (He-scaled, BatchNorm near identity), for
    /// benchmarks: the same layers and costs as a real checkpoint of that architecture.
    public convenience init(randomWeights description: DetectorDescription, seed: UInt64 = 1) throws {
        var state = seed
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        try self.init(synthesizing: description) { name, shape in
            let n = shape.reduce(1, *)
            if name.hasSuffix("running_var") || (name.contains(".bn.") && name.hasSuffix(".weight")) {
                return Tensor(shape: shape, storage: (0..<n).map { _ in 0.5 + uniform() })
            }
            let fan = shape.count == 4 ? shape[1] * shape[2] * shape[3] : 1
            let scale = (6 / Float(max(fan, 1))).squareRoot()
            return Tensor(shape: shape, storage: (0..<n).map { _ in (2 * uniform() - 1) * scale * (shape.count == 4 ? 1 : 0.1) })
        }
    }
}

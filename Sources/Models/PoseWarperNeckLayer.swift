import Engine
import Foundation
import Tensors

/// mmpose 0.x PoseWarperNeck: heatmaps per frame, offsets from the difference to the current
/// frame, deformable warping at each dilation, mean over dilations, frame-weighted sum.
final class PoseWarperNeckLayer {
    let trans: Conv2d
    let offsetFeats: [ResidualBlock]
    let offsetLayers: [Conv2d]
    let deformConvs: [DeformableConv2d]
    let joints: Int

    /// offset_layers_j(offset_feats(0)) per heatmap size: the i = 0 difference heat_0 − heat_0 is
    /// exactly zero, so its offsets are a per-model constant (the zero map's conv outputs only
    /// depend on the padding pattern). Computing it once is an exact saving.
    private var zeroOffsets: [[Int]: [Tensor]] = [:]
    private let lock = NSLock()

    init(_ spec: NeckSpec, deformGroups: Int, _ read: WeightReader) throws {
        trans = try Conv2d.make(spec.trans, read)
        joints = spec.trans.outChannels
        offsetFeats = try spec.offsetFeats.map { try ResidualBlock($0, read) }
        offsetLayers = try spec.offsetLayers.map { try Conv2d.make($0, read) }
        deformConvs = try spec.deformConvs.map {
            DeformableConv2d(weight: try read($0.name + ".weight"), bias: nil, stride: 1, padding: $0.padding,
                             dilation: $0.dilation, groups: 1, deformGroups: deformGroups)
        }
    }

    /// Per-frame backbone features (current frame first) → aggregated heatmaps [N, K, h, w].
    func callAsFunction(_ features: [Tensor], frameWeights: [Float]) -> Tensor {
        precondition(features.count == frameWeights.count, "\(features.count) frames for \(frameWeights.count) frame weights")
        let heats = features.map { trans($0) }
        let shape = heats[0].shape
        var output = Tensor(shape: shape, repeating: 0)
        for (i, heat) in heats.enumerated() {
            // mmpose skips weight-0 frames (their heatmaps still feed nothing else).
            if frameWeights[i] == 0 { continue }
            let offsets: [Tensor]
            if i == 0 {
                offsets = constantZeroOffsets(batch: shape[0], height: shape[2], width: shape[3])
            } else {
                let diff = runBlocks(offsetFeats, subtract(heats[0], heat))
                offsets = offsetLayers.map { $0(diff) }
            }
            var warped = Tensor(shape: shape, repeating: 0)
            for (deform, offset) in zip(deformConvs, offsets) {
                // warped += deform(heat) / n, in dilation order, as mmpose accumulates it.
                let term = deform(heat, offsets: offset)
                warped.withUnsafeMutableBufferPointer { w in
                    term.withUnsafeBufferPointer { t in
                        for k in 0..<w.count { w[k] += t[k] / Float(offsetLayers.count) }
                    }
                }
            }
            let weight = frameWeights[i]
            output.withUnsafeMutableBufferPointer { o in
                warped.withUnsafeBufferPointer { w in
                    for k in 0..<o.count { o[k] += w[k] * weight }
                }
            }
        }
        return output
    }

    /// The offsets of a zero difference, computed for one sample and repeated over the batch.
    private func constantZeroOffsets(batch: Int, height: Int, width: Int) -> [Tensor] {
        let key = [height, width]
        lock.lock()
        let cached = zeroOffsets[key]
        lock.unlock()
        let single: [Tensor]
        if let cached {
            single = cached
        } else {
            let zero = Tensor(shape: [1, joints, height, width], repeating: 0)
            let feats = runBlocks(offsetFeats, zero)
            single = offsetLayers.map { $0(feats) }
            lock.lock()
            zeroOffsets[key] = single
            lock.unlock()
        }
        return single.map { repeatBatch($0, batch) }
    }
}

/// a − b elementwise (same shapes).
func subtract(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape)
    return Tensor(shape: a.shape, unsafeUninitialized: { out in
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<out.count { out[i] = pa[i] - pb[i] }
            }
        }
    })
}

/// `n` copies of a batch-1 tensor along the batch axis.
func repeatBatch(_ x: Tensor, _ n: Int) -> Tensor {
    if n == 1 { return x }
    var shape = x.shape
    shape[0] = n
    var storage: [Float] = []
    storage.reserveCapacity(x.count * n)
    for _ in 0..<n { storage.append(contentsOf: x.storage) }
    return Tensor(shape: shape, storage: storage)
}

/// Rows [start, start + count) of the batch axis.
func sliceBatch(_ x: Tensor, start: Int, count: Int) -> Tensor {
    let per = x.count / x.shape[0]
    var shape = x.shape
    shape[0] = count
    return Tensor(shape: shape, storage: Array(x.storage[start * per..<(start + count) * per]))
}

/// Concatenation along the batch axis.
func concatBatch(_ xs: [Tensor]) -> Tensor {
    var shape = xs[0].shape
    shape[0] = xs.reduce(0) { $0 + $1.shape[0] }
    var storage: [Float] = []
    storage.reserveCapacity(shape.reduce(1, *))
    for x in xs { storage.append(contentsOf: x.storage) }
    return Tensor(shape: shape, storage: storage)
}

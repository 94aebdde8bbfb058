import Engine
import Foundation
import Tensors

/// mmpose 0.x PoseWarperNeck, in parts: `heatmaps` per frame, `offsets` from a (reference, support)
/// pair of heatmaps, `warp` of any heatmaps with given offsets; PoseWarper's aggregation is their
/// composition (`combine`). Every operation takes a batch: a window's support frames go through
/// each layer together.
public final class PoseWarperNeckLayer: HeatmapHead {
    let trans: Conv2d
    let offsetFeats: [ResidualBlock]
    let offsetLayers: [Conv2d]
    let deformConvs: [DeformableConv2d]
    let joints: Int
    /// Weight of each frame of a window (current first).
    public let frameWeights: [Float]
    /// The arithmetic of the neck's convolutions: its model's `precision` (set there).
    public internal(set) var precision: Precision = .float32

    /// offset_layers_j(offset_feats(0)) per heatmap size: the i = 0 difference heat_0 − heat_0 is
    /// exactly zero, so its offsets are a per-model constant (per size and precision) (the zero map's conv outputs only
    /// depend on the padding pattern). Computing it once is an exact saving.
    private var zeroOffsets: [[Int]: [Tensor]] = [:]
    private let lock = NSLock()

    init(_ spec: NeckSpec, deformGroups: Int, frameWeights: [Float], _ read: WeightReader) throws {
        trans = try Conv2d.make(spec.trans, read)
        joints = spec.trans.outChannels
        offsetFeats = try spec.offsetFeats.map { try ResidualBlock($0, read) }
        offsetLayers = try spec.offsetLayers.map { try Conv2d.make($0, read) }
        deformConvs = try spec.deformConvs.map {
            DeformableConv2d(weight: try read($0.name + ".weight"), bias: nil, stride: 1, padding: $0.padding,
                             dilation: $0.dilation, groups: 1, deformGroups: deformGroups)
        }
        self.frameWeights = frameWeights
    }

    public var framesPerSample: Int { frameWeights.count }

    /// Backbone features are what a crop contributes; the neck runs per window.
    public func encode(_ features: Tensor) -> Tensor { features }

    public func combine(_ encodings: [Tensor]) -> Tensor { aggregate(encodings) }

    /// Backbone features [N, C, h, w] → heatmaps [N, K, h, w] (`trans_layer`). `perCall` (default N)
    /// is the batch the engine chooses its algorithms for, so a batch of several windows' frames
    /// gives the same bits as one call per frame.
    public func heatmaps(_ features: Tensor, perCall: Int? = nil) -> Tensor {
        precision.run { trans(features, planBatch: perCall) }
    }

    /// Offsets for warping the support heatmaps onto the reference ones, one tensor per dilation
    /// ([N, 2·groups·9, h, w]): offset layers on offset_feats(reference − support).
    public func offsets(reference: Tensor, support: Tensor, perCall: Int? = nil) -> [Tensor] {
        let diff = offsetFeatures(reference: reference, support: support, perCall: perCall)
        return precision.run { offsetLayers.map { $0(diff, planBatch: perCall) } }
    }

    /// offset_feats(reference − support): what every dilation's offset layer reads.
    private func offsetFeatures(reference: Tensor, support: Tensor, perCall: Int?) -> Tensor {
        precision.run { runBlocks(offsetFeats, subtract(reference, support), planBatch: perCall) }
    }

    /// Any heatmaps [N, K, h, w] warped with `offsets` (one per dilation): the mean of the
    /// deformable convolutions, accumulated in dilation order as mmpose does.
    public func warp(_ heatmaps: Tensor, offsets: [Tensor]) -> Tensor {
        precondition(offsets.count == deformConvs.count, "\(offsets.count) offsets for \(deformConvs.count) dilations")
        return warp(heatmaps) { [.tensor(offsets[$0])] }
    }

    /// `warp` with dilation j's offsets from their sources, in parts along the batch axis (no
    /// concatenation), made when that dilation's turn comes: only one dilation's offsets exist at a
    /// time, and offsets a convolution makes are made inside the deformable convolution.
    func warp(_ heatmaps: Tensor, offsetSourcesOf sources: (Int) -> [DeformableOffsets]) -> Tensor {
        var warped = Tensor(shape: heatmaps.shape, repeating: 0)
        let n = Float(deformConvs.count)
        for (j, deform) in deformConvs.enumerated() {
            let offsets = sources(j)
            let term = precision.run { deform(heatmaps, offsetSources: offsets) }
            warped.withUnsafeMutableBufferPointer { w in
                term.withUnsafeBufferPointer { t in
                    for k in 0..<w.count { w[k] += t[k] / n }
                }
            }
        }
        return warped
    }

    /// Per-frame backbone features (current frame first, each [P, C, h, w]) → aggregated heatmaps
    /// [P, K, h, w]: Σ_i weight_i · warp(heat_i, offsets(heat_0, heat_i)), in frame order.
    public func aggregate(_ features: [Tensor]) -> Tensor {
        precondition(features.count == frameWeights.count, "\(features.count) frames for \(frameWeights.count) frame weights")
        let p = features[0].shape[0]
        // mmpose skips weight-0 frames; frame 0 is always needed as the reference.
        let warpedFrames = frameWeights.indices.filter { frameWeights[$0] != 0 }
        let supports = warpedFrames.filter { $0 != 0 }
        let needed = frameWeights.indices.filter { $0 == 0 || frameWeights[$0] != 0 }
        let heats = heatmaps(concatBatch(needed.map { features[$0] }), perCall: p)
        let heatOf = { (i: Int) in sliceBatch(heats, start: needed.firstIndex(of: i)! * p, count: p) }
        let reference = heatOf(0)
        let shape = reference.shape

        var output = Tensor(shape: shape, repeating: 0)
        guard !warpedFrames.isEmpty else { return output }
        // The supports' offset features (offset_feats(reference − support)), one batch; each
        // dilation's offsets are then made per support frame ([P, 306, h, w]) when the dilation's
        // turn comes: all dilations of all frames at once were gigabytes for a few persons, and
        // tensors above the allocator's 32 MiB reuse limit are page-faulted afresh on every call.
        let features = supports.isEmpty ? nil : offsetFeatures(reference: repeatBatch(reference, supports.count),
                                                              support: concatBatch(supports.map(heatOf)), perCall: p)
        let zero = frameWeights[0] != 0 ? constantZeroOffsets(height: shape[2], width: shape[3]) : []
        let warped = warp(concatBatch(warpedFrames.map(heatOf))) { j in
            // In `warpedFrames` order: the current frame's (one constant sample for every person), then each support's.
            var parts: [DeformableOffsets] = zero.isEmpty ? [] : [.shared(zero[j], count: p)]
            for s in supports.indices {
                parts.append(.convolution(offsetLayers[j], sliceBatch(features!, start: s * p, count: p), planBatch: p))
            }
            return parts
        }
        for (position, i) in warpedFrames.enumerated() {
            let weight = frameWeights[i]
            let frame = sliceBatch(warped, start: position * p, count: p)
            output.withUnsafeMutableBufferPointer { o in
                frame.withUnsafeBufferPointer { w in
                    for k in 0..<o.count { o[k] += w[k] * weight }
                }
            }
        }
        return output
    }

    /// The offsets of a zero difference for one sample ([1, …] per dilation).
    private func constantZeroOffsets(height: Int, width: Int) -> [Tensor] {
        let key = [height, width, precision == .float32 ? 0 : 1]
        lock.lock()
        let cached = zeroOffsets[key]
        lock.unlock()
        if let cached { return cached }
        let zero = Tensor(shape: [1, joints, height, width], repeating: 0)
        let single = precision.run {
            let feats = runBlocks(offsetFeats, zero)
            return offsetLayers.map { $0(feats) }
        }
        lock.lock()
        zeroOffsets[key] = single
        lock.unlock()
        return single
    }
}

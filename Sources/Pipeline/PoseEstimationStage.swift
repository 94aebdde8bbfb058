import Foundation
import Keypoints
import Tensors
import Video

/// The network stage: temporal window → crops → backbone → neck, giving each output frame's
/// heatmaps. Frames are held only while a window needs them. Every support frame is cropped with
/// the CURRENT frame's box (mmpose). Per-crop encodings are cached by (frame, box): when boxes repeat
/// across frames — always in whole-frame mode — each frame goes through the backbone once instead of
/// once per window it supports (5× less backbone work for PoseWarper).
public final class PoseEstimationStage: PipelineStage {
    public let name = "network"
    public var isCostly: Bool { true }
    let crops: CropStage
    let network: PoseNetwork
    let window: TemporalWindow<PipelineFrame>
    let lookBehind: Int
    /// Crops per backbone call (bounds activation memory).
    let maxBatch: Int

    struct CacheKey: Hashable {
        let frame: Int
        let x: Double, y: Double, w: Double, h: Double
        init(frame: Int, box: PersonBox) { self.frame = frame; (x, y, w, h) = (box.x, box.y, box.width, box.height) }
    }
    private var cache: [CacheKey: Tensor] = [:]
    /// Backbone crops computed and reused (for tests and the bench).
    public private(set) var cropsEncoded = 0
    public private(set) var cropsReused = 0
    /// Seconds spent cropping, encoding (backbone) and combining (neck).
    public private(set) var seconds: [String: Double] = [:]

    private func timed<T>(_ stage: String, _ body: () -> T) -> T {
        let start = ContinuousClock.now
        defer { seconds[stage, default: 0] += (ContinuousClock.now - start).seconds }
        return body()
    }

    /// `frameOffsets`: the temporal window relative to the current frame, current (0) first;
    /// `maxBatch`: crops per backbone call (default `defaultBatch` for the crop size).
    public init(crops: CropStage, network: PoseNetwork, frameOffsets: [Int], maxBatch: Int? = nil) {
        self.crops = crops
        self.network = network
        window = TemporalWindow(offsets: frameOffsets)
        lookBehind = max(0, -(frameOffsets.min() ?? 0))
        self.maxBatch = max(1, maxBatch ?? Self.defaultBatch(height: crops.inputHeight, width: crops.inputWidth))
    }

    /// A window's crops go through the backbone together, up to 16 crops of 128×96 pixels' worth (at
    /// least 4): batches fill the kernels' column blocks on the low-resolution branches (measured 9%
    /// less CPU per person-frame on the demo model than one crop per call), and the bound keeps large
    /// crops' activation memory in check. Results do not depend on the batch (`PoseModel.features`).
    public static func defaultBatch(height: Int, width: Int) -> Int {
        min(16, max(4, 16 * 128 * 96 / max(1, height * width)))
    }

    /// Window positions count the frames received: equal to frame indices unless a live source
    /// dropped frames (the window then spans the frames that were kept).
    private var position: Int?

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        position = position.map { $0 + 1 } ?? frame.frame.index
        return window.add(frame, index: position!).compactMap(estimate)
    }

    /// The end of the stream: the last windows, clipped at the last frame.
    public func flush() throws -> [PipelineFrame] {
        window.finish().compactMap(estimate)
    }

    public func report(into summary: inout PoseJob.Summary) {
        summary.stageSeconds.merge(seconds) { a, _ in a }
        summary.cropsEncoded = cropsEncoded
        summary.cropsReused = cropsReused
    }

    /// The window's current frame with its persons' heatmaps; nil for a context-only frame.
    func estimate(_ window: TemporalWindow<PipelineFrame>.Window) -> PipelineFrame? {
        var current = window.current
        guard current.isOutput else { return nil }
        (current.heatmaps, current.crops) = heatmaps(window)
        return current
    }

    /// Heatmaps [P, K, h, w] of the current frame's persons and their crops (nil, [] without persons).
    public func heatmaps(_ window: TemporalWindow<PipelineFrame>.Window) -> (Tensor?, [CropTransform]) {
        defer { evict(before: window.index + 1 - lookBehind) }
        let boxes = window.current.boxes
        guard !boxes.isEmpty else { return (nil, []) }
        let transforms = boxes.map(crops.transform)

        // Encode every (support frame, box) pair not cached yet, in batches.
        var missing: [(key: CacheKey, position: Int, person: Int)] = []
        var seen = Set<CacheKey>()
        for (position, frameIndex) in window.sourceIndices.enumerated() {
            for (person, box) in boxes.enumerated() {
                let key = CacheKey(frame: frameIndex, box: box)
                if cache[key] != nil || seen.contains(key) { cropsReused += 1; continue }
                seen.insert(key)
                missing.append((key, position, person))
            }
        }
        let plane = 3 * crops.inputHeight * crops.inputWidth
        for start in stride(from: 0, to: missing.count, by: maxBatch) {
            let chunk = missing[start..<min(start + maxBatch, missing.count)]
            let batch = timed("crop") {
                Tensor(shape: [chunk.count, 3, crops.inputHeight, crops.inputWidth]) { buffer in
                    for (i, item) in chunk.enumerated() {
                        crops.crop(window.frames[item.position].frame, transforms[item.person], into: buffer.baseAddress! + i * plane)
                    }
                }
            }
            let encoded = timed("backbone") { network.encode(batch) }
            let per = encoded.count / chunk.count
            let itemShape = [1] + Array(encoded.shape.dropFirst())
            for (i, item) in chunk.enumerated() {
                cache[item.key] = Tensor(shape: itemShape, storage: Array(encoded.storage[(i * per)..<((i + 1) * per)]))
            }
            cropsEncoded += chunk.count
        }

        // One [P, …] tensor per support position, persons in box order.
        let encodings: [Tensor] = window.sourceIndices.map { frameIndex in
            let parts = boxes.map { cache[CacheKey(frame: frameIndex, box: $0)]! }
            if parts.count == 1 { return parts[0] }
            var shape = parts[0].shape
            shape[0] = parts.count
            return Tensor(shape: shape, storage: parts.flatMap(\.storage))
        }
        let heatmaps = timed("neck") { network.heatmaps(from: encodings) }
        return (heatmaps, transforms)
    }

    /// Drops cached encodings of frames no later window can use.
    func evict(before frame: Int) {
        for key in cache.keys where key.frame < frame { cache[key] = nil }
    }

    /// Cached per-crop encodings (bounded by the window's frames × persons).
    public var cachedCount: Int { cache.count }
}

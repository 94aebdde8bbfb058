import Engine
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
    /// Windows whose necks may run at the same time, one engine thread each.
    let concurrentWindows: Int
    /// Windows queued until that many are ready, by default: a constant, not the thread count,
    /// because the frames held decide which keypoints feed the detector stage's skipped frames.
    public static let defaultConcurrentWindows = 2
    /// Output frames the stage may hold beyond its window's look-ahead (queued for a side-by-side
    /// neck run); the detector stage's keypoint feedback waits that much further back.
    public var heldFrames: Int { concurrentWindows - 1 }

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
    /// `concurrentWindows`: small windows' necks are queued until this many are ready, then run side
    /// by side (default `defaultConcurrentWindows`; 1 for a single-frame window).
    public init(crops: CropStage, network: PoseNetwork, frameOffsets: [Int], maxBatch: Int? = nil,
                concurrentWindows: Int? = nil) {
        self.crops = crops
        self.network = network
        window = TemporalWindow(offsets: frameOffsets)
        lookBehind = max(0, -(frameOffsets.min() ?? 0))
        self.maxBatch = max(1, maxBatch ?? Self.defaultBatch(height: crops.inputHeight, width: crops.inputWidth))
        // A single-frame window has no neck worth running side by side (its head ran with the backbone).
        self.concurrentWindows = max(1, concurrentWindows ?? (frameOffsets.count > 1 ? Self.defaultConcurrentWindows : 1))
    }

    /// A window's neck whose inputs (all frames' encodings) stay under this size is run next to other
    /// windows' necks, each on one thread, instead of alone with its layers split over the threads:
    /// the layers of such a neck (the demo model's: 64×48 maps of 4–17 channels) are too small to
    /// keep the threads busy (measured 1.4 of 2 cores). Larger necks split well inside each layer and
    /// would only multiply their activation memory by running side by side.
    public static let concurrentNeckBytes = 4 << 20

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
        for ready in window.add(frame, index: position!) { prepare(ready) }
        return release(all: false)
    }

    /// The end of the stream: the last windows, clipped at the last frame.
    public func flush() throws -> [PipelineFrame] {
        for ready in window.finish() { prepare(ready) }
        return release(all: true)
    }

    /// Output frames in order, each with its neck's inputs once encoded (nil: no neck to run).
    private var pending: [(frame: PipelineFrame, encodings: [Tensor]?, transforms: [CropTransform])] = []

    /// Encodes a window's crops (in order: the encoding cache is sequential) and queues its neck.
    private func prepare(_ window: TemporalWindow<PipelineFrame>.Window) {
        guard window.current.isOutput else { return }
        let (encodings, transforms) = self.encodings(window)
        pending.append((window.current, encodings, transforms))
    }

    /// Persons per neck call at most: the neck's intermediate tensors grow with the persons it is
    /// given (each dilation's offsets are 2·17·9 = 306 channels per support frame and person), so a
    /// crowded frame in one call took gigabytes (75 persons: 6 GB, 74 s for six 1080p frames on the
    /// demo model); in groups of four it stays within a few hundred MB.
    public static let personsPerNeck = 4

    /// Runs the queued necks (each window's persons in groups of `personsPerNeck`), side by side when
    /// they are small, and hands their frames on in order. Without `all` it waits until enough small
    /// necks are queued to run together.
    private func release(all: Bool) -> [PipelineFrame] {
        // A job: one pending window's (`item`'s) group of persons.
        var jobs: [(item: Int, persons: Range<Int>)] = []
        for (i, item) in pending.enumerated() {
            guard let count = item.encodings?.first?.shape.first else { continue }
            for start in stride(from: 0, to: count, by: Self.personsPerNeck) {
                jobs.append((i, start..<min(start + Self.personsPerNeck, count)))
            }
        }
        let inputs = { (job: (item: Int, persons: Range<Int>)) -> [Tensor] in
            let encodings = self.pending[job.item].encodings!
            if job.persons.count == encodings[0].shape[0] { return encodings }
            return encodings.map { sliceBatch($0, start: job.persons.lowerBound, count: job.persons.count) }
        }
        let small = { (job: (item: Int, persons: Range<Int>)) -> Bool in
            let encodings = self.pending[job.item].encodings!
            let bytes = encodings.reduce(0) { $0 + $1.count } / encodings[0].shape[0] * job.persons.count * MemoryLayout<Float>.size
            return bytes <= Self.concurrentNeckBytes
        }
        // Hold at most `heldFrames` output frames (frames without persons count too).
        if !all, pending.count < concurrentWindows, jobs.count < concurrentWindows, let last = jobs.last, small(last) {
            return []
        }
        var outputs = [Tensor?](repeating: nil, count: jobs.count)
        timed("neck") {
            var start = 0
            while start < jobs.count {
                // A run of small necks goes side by side (at most one per engine thread at a time); a
                // large one alone, split inside its layers.
                var end = start + 1
                if small(jobs[start]) { while end < jobs.count, small(jobs[end]) { end += 1 } }
                let network = self.network, group = Array(jobs[start..<end])
                let heatmaps = concurrentMap(group.count) { network.heatmaps(from: inputs(group[$0])) }
                for (k, heatmap) in heatmaps.enumerated() { outputs[start + k] = heatmap }
                start = end
            }
        }
        let frames = pending.indices.map { i -> PipelineFrame in
            var frame = pending[i].frame
            let parts = jobs.indices.filter { jobs[$0].item == i }.map { outputs[$0]! }
            if !parts.isEmpty { (frame.heatmaps, frame.crops) = (concatBatch(parts), pending[i].transforms) }
            return frame
        }
        pending.removeAll()
        return frames
    }

    public func report(into summary: inout PoseJob.Summary) {
        summary.stageSeconds.merge(seconds) { a, _ in a }
        summary.cropsEncoded = cropsEncoded
        summary.cropsReused = cropsReused
    }

    /// The neck's inputs for the current frame's persons (per support position, [P, …]) and their
    /// crops; nil, [] without persons.
    func encodings(_ window: TemporalWindow<PipelineFrame>.Window) -> ([Tensor]?, [CropTransform]) {
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
        return (encodings, transforms)
    }

    /// Drops cached encodings of frames no later window can use.
    func evict(before frame: Int) {
        for key in cache.keys where key.frame < frame { cache[key] = nil }
    }

    /// Cached per-crop encodings (bounded by the window's frames × persons).
    public var cachedCount: Int { cache.count }
}

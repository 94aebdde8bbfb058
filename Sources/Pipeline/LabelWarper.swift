import Foundation
import Keypoints
import Models
import Tensors
import Video

/// `propagate --method warp`: PoseWarper's reversed application (the official release's video pose
/// propagation mode). For an unlabelled frame t and each labelled source frame s of a track, t and s
/// are cropped with the track's box at t; the neck computes offsets from the heatmap difference
/// heat(t) − heat(s), exactly as it does for a neighbour frame, and warps the label heatmaps of s
/// (Gaussians drawn from the labelled keypoints with the model's training sigma) with them. The
/// warped label heatmaps of both sides are summed per joint with the sources' temporal weights
/// (over the sources labelling the joint) and decoded through t's crop.
public final class LabelWarper {
    public let model: PoseModel
    let neck: PoseWarperNeckLayer
    let crops: TopDownCropStage
    let decoder: HeatmapDecoder
    let sigma: Double
    let heatmapWidth: Int, heatmapHeight: Int

    /// A warper for a loaded PoseWarper model with a pipeline's crop and decoding settings.
    public init(config: PipelineConfig, model: PoseModel) throws {
        let source = config.path ?? "the model"
        guard let neck = model.neck else {
            throw PipelineError.badInput("\(source): --method warp needs a PoseWarper checkpoint (this is a single-frame top-down model); use --method interpolate or copy")
        }
        guard model.numJoints == config.model.schema.keypoints.count else {
            throw PipelineError.badInput("\(source): the model predicts \(model.numJoints) keypoints but schema \(config.model.schema.name) has \(config.model.schema.keypoints.count)")
        }
        self.model = model
        self.neck = neck
        crops = TopDownCropStage(model: config.model, padding: config.persons.bboxPadding)
        decoder = HeatmapDecoder(postProcess: config.model.postProcess, kernel: config.model.modulateKernel)
        sigma = config.model.sigma
        (heatmapWidth, heatmapHeight) = (config.model.inputWidth / 4, config.model.inputHeight / 4)
    }

    /// Loads the pipeline's checkpoint (or `weights`) and builds the warper.
    public convenience init(config: PipelineConfig, weights: String?) throws {
        try self.init(config: config, model: PoseJob.loadModel(config, weights: weights))
    }

    /// Propagates every task of `plan` through the frames of `video`, decoding it once, in order,
    /// holding only the frames within the plan's gap of the target being estimated.
    public func run(_ plan: PropagationPlan, video: String) throws -> [Int: [PropagatedPose]] {
        let reader: VideoReader
        do { reader = try VideoReader(video) } catch { throw PipelineError.badInput("\(error)") }
        let targets = plan.tasks.keys.sorted()
        // The last frame each target needs, and every frame any target needs.
        let lastNeeded = targets.map { t in plan.tasks[t]!.flatMap { $0.sources.map(\.frame) }.max().map { max($0, t) } ?? t }
        var needed = Set(targets)
        for tasks in plan.tasks.values { for task in tasks { needed.formUnion(task.sources.map(\.frame)) } }
        var held: [Int: VideoFrame] = [:]
        var result: [Int: [PropagatedPose]] = [:]
        var next = 0
        func estimateReady(upTo decoded: Int) {
            while next < targets.count, lastNeeded[next] <= decoded {
                let t = targets[next]
                result[t] = estimate(plan.tasks[t]!, frames: held)
                next += 1
                // Frames before the next target's earliest source are no longer needed.
                let keep = next < targets.count ? targets[next] - plan.maxGap : Int.max
                held = held.filter { $0.key >= keep }
            }
        }
        var last = -1
        while next < targets.count, let frame = try reader.next() {
            last = frame.index
            if needed.contains(frame.index) { held[frame.index] = frame }
            estimateReady(upTo: frame.index)
        }
        if next < targets.count {
            let reason = reader.stopReason.map { " (\($0))" } ?? ""
            throw PipelineError.badInput("\(video): the video ended after frame \(last) but the labels need frame \(lastNeeded[next])\(reason)")
        }
        return result
    }

    /// The poses of one frame's tasks, all frames of which are in `frames`.
    func estimate(_ tasks: [PropagationPlan.Task], frames: [Int: VideoFrame]) -> [PropagatedPose] {
        let transforms = tasks.map { crops.transform(for: $0.box) }
        // Crops: per task, its target, then its sources, all with the target's box.
        var images: [(VideoFrame, CropTransform)] = []
        var labels: [Tensor] = []
        var weights: [[Float]] = []
        for (task, transform) in zip(tasks, transforms) {
            images.append((frames[task.frame]!, transform))
            var perJoint = [[Float]](repeating: [Float](repeating: 0, count: model.numJoints), count: task.sources.count)
            for k in 0..<model.numJoints {
                for (i, w) in task.weights(joint: k) { perJoint[i][k] = Float(w) }
            }
            for (i, source) in task.sources.enumerated() {
                images.append((frames[source.frame]!, transform))
                labels.append(LabelHeatmaps.render(keypoints: source.instance.keypoints, crop: transform,
                                                   width: heatmapWidth, height: heatmapHeight, sigma: sigma))
                weights.append(perJoint[i])
            }
        }
        let (h, w) = (crops.inputHeight, crops.inputWidth)
        var input = Tensor(shape: [images.count, 3, h, w], repeating: 0)
        input.withUnsafeMutableBufferPointer { buffer in
            for (i, (frame, transform)) in images.enumerated() {
                crops.crop(frame, transform, into: buffer.baseAddress! + i * 3 * h * w)
            }
        }
        let stacked = Tensor(shape: [labels.count, model.numJoints, heatmapHeight, heatmapWidth],
                             storage: labels.flatMap(\.storage))
        let heatmaps = warpedHeatmaps(crops: input, sourcesPerTarget: tasks.map(\.sources.count), labels: stacked, weights: weights)
        let decoded = decoder.decode(heatmaps, crops: transforms)
        return zip(tasks, decoded).map { task, keypoints in
            var pose = PropagatedPose(trackID: task.trackID, box: task.box,
                                      keypoints: Array(repeating: [0, 0, 0], count: model.numJoints),
                                      flags: Array(repeating: 0, count: model.numJoints))
            for k in 0..<model.numJoints {
                guard let nearest = task.nearest(joint: k), keypoints[k].score > 0 else { continue }
                pose.keypoints[k] = [Double(keypoints[k].x), Double(keypoints[k].y), Double(keypoints[k].score)]
                pose.flags[k] = nearest.instance.keypoints[k][2]
            }
            return pose
        }
    }

    /// Heatmaps at the targets [T, K, h, w] from normalised crops (per target: its crop, then its
    /// `sourcesPerTarget[i]` sources' crops), the sources' label heatmaps [S, K, h, w] in the
    /// target's crop and each source's weight per joint.
    func warpedHeatmaps(crops input: Tensor, sourcesPerTarget: [Int], labels: Tensor, weights: [[Float]]) -> Tensor {
        let neck = self.neck
        let heats = neck.heatmaps(model.features(input))
        let plane = heats.count / heats.shape[0]
        // Pair each source with its target's heatmaps: reference = target, support = source.
        var reference: [Float] = [], support: [Float] = []
        var row = 0
        for count in sourcesPerTarget {
            for i in 0..<count {
                reference += heats.storage[row * plane..<(row + 1) * plane]
                support += heats.storage[(row + 1 + i) * plane..<(row + 2 + i) * plane]
            }
            row += 1 + count
        }
        var pairShape = heats.shape
        pairShape[0] = labels.shape[0]
        let offsets = neck.offsets(reference: Tensor(shape: pairShape, storage: reference),
                                   support: Tensor(shape: pairShape, storage: support))
        let warped = neck.warp(labels, offsets: offsets)
        // Σ over each target's sources of weight[source][joint] · warped[source][joint].
        let (k, mapSize) = (labels.shape[1], labels.shape[2] * labels.shape[3])
        var out = Tensor(shape: [sourcesPerTarget.count, k, labels.shape[2], labels.shape[3]], repeating: 0)
        out.withUnsafeMutableBufferPointer { o in
            warped.withUnsafeBufferPointer { wp in
                var source = 0
                for (target, count) in sourcesPerTarget.enumerated() {
                    for _ in 0..<count {
                        for j in 0..<k {
                            let weight = weights[source][j]
                            if weight == 0 { continue }
                            let dst = (target * k + j) * mapSize, src = (source * k + j) * mapSize
                            for p in 0..<mapSize { o[dst + p] += weight * wp[src + p] }
                        }
                        source += 1
                    }
                }
            }
        }
        return out
    }
}

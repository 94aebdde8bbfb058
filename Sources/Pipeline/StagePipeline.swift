import Dispatch
import Foundation
import Keypoints
import Tensors
import Video

/// One frame on its way through the stages; each stage fills in its part.
public struct PipelineFrame {
    /// The decoded picture.
    public var frame: VideoFrame
    /// False for frames read only as temporal context (outside `--start`/`--end`): no persons are
    /// looked for and no result is written.
    public var isOutput: Bool
    /// Processed like an output frame but not written: the frames a run starts early so its range's
    /// results equal a whole run's (`PoseJob.processingStart`). The outputs stage drops them.
    public var isWarmUp = false
    /// Person boxes (persons stage).
    public var boxes: [PersonBox] = []
    /// Heatmaps [P, K, h, w] of the boxes' persons and each person's crop (network stage).
    public var heatmaps: Tensor?
    public var crops: [CropTransform] = []
    /// The persons found (keypoint decoding; track ids from the tracking stage).
    public var persons: [PersonPose] = []

    public init(frame: VideoFrame, isOutput: Bool = true) {
        self.frame = frame
        self.isOutput = isOutput
    }
}

/// One step of a run. The pipeline calls `process` with every frame in order, on the stage's own
/// queue, and passes what it returns on to the next stage; a stage may hold frames back (a
/// temporal window) and release them later or in `flush`.
public protocol PipelineStage: AnyObject {
    /// The stage's name in `PoseJob.Summary.stageSeconds`.
    var name: String { get }
    /// A stage whose work per frame takes long (a network): `cancel()` drops the frames waiting in
    /// front of it and of every stage before it; frames it already finished still reach the outputs.
    var isCostly: Bool { get }
    /// Whether the stage gets a queue of its own (costly stages and slow I/O, so they overlap with
    /// the rest); other stages run on the queue of the stage before them, since a queue between two
    /// light stages would only add frames in flight.
    var runsOnOwnQueue: Bool { get }
    /// Before the first frame (outputs open their files here, so a bad path fails before any work).
    func begin(_ run: RunDescription) throws
    /// One frame in, zero or more frames out.
    func process(_ frame: PipelineFrame) throws -> [PipelineFrame]
    /// The input ended normally (not cancelled): the frames still held.
    func flush() throws -> [PipelineFrame]
    /// After a run without errors, also a cancelled one (outputs are finalised here); `allFrames` is
    /// false when the run stopped early (cancel, closed output), so files that must cover every
    /// frame are not produced. On failure the stage cleans up what it could not complete itself.
    func complete(allFrames: Bool) throws
    /// After the stage's last frame, whether the input ended, was cancelled or failed (on the
    /// stage's queue; a stage that others wait on releases them here).
    func stopped()
    /// After a failed run (outputs remove what they wrote).
    func abort()
    /// Extra seconds (sub-steps) and counters for the summary.
    func report(into summary: inout PoseJob.Summary)
}

extension PipelineStage {
    public var isCostly: Bool { false }
    public var runsOnOwnQueue: Bool { isCostly }
    public func begin(_ run: RunDescription) throws {}
    public func flush() throws -> [PipelineFrame] { [] }
    public func complete(allFrames: Bool) throws {}
    public func stopped() {}
    public func abort() {}
    public func report(into summary: inout PoseJob.Summary) {}
}

/// Runs a frame source through an ordered list of stages on Dispatch queues joined by bounded
/// queues (back-pressure: memory is bounded by the queue capacities and what stages hold, not by the
/// video's length). Frames keep their order. A costly stage (a network) and the outputs run on
/// queues of their own; a light stage runs on the queue of the stage before it. `PoseJob` builds
/// the list:
///
///     FrameSource                      decode (VideoReader)                        ┐ queue 1
///          │  PipelineFrame                                                        │
///     PersonsStage                     boxes file / whole frame                    ┘
///       or DetectorStage               detector network (own queue)  ◀─────────┐
///          │                                                               │ KeypointBoxes:
///     PoseEstimationStage              temporal window + crops + backbone  ┐ │ boxes of earlier
///          │                           + neck → heatmaps                   │ │ keypoints for the
///     KeypointsStage                   heatmaps → keypoints in image pixels│ │ frames the detector
///          │                                                               │ │ skips (every_n_frames)
///     TrackingStage                    track ids (after decoding: OKS      │ │
///          │                           compares keypoints) ────────────────┘─┘ queue 2
///     OutputsStage                     keypoint stream, COCO, PoseTrack,           ┐ queue 3
///                                      annotated video, custom                     ┘
///
/// The pipeline, not the stages, handles what is common: the first error stops every stage and
/// aborts them; `cancel()` stops the source and drops frames waiting for costly stages, while
/// finished frames still reach the outputs; a closed output (`OutputClosed`, e.g. `| head -1`)
/// stops the run quietly; the seconds of each stage and the summary are collected here.
public final class StagePipeline {
    public let stages: [PipelineStage]
    /// Capacity of each queue between two stages.
    public let queueCapacity: Int
    /// Stage indices per Dispatch queue; the first queue also runs the source.
    let queues: [[Int]]
    /// Live sources: a frame that finds the queue after the source's full is dropped (counted in
    /// `Summary.framesDropped`) instead of holding the source back.
    public var dropsFramesWhenBehind = false

    private let lock = NSLock()
    private var cancelled = false
    private var links: [BoundedQueue<PipelineFrame>] = []

    public init(stages: [PipelineStage], queueCapacity: Int = 2) {
        self.stages = stages
        self.queueCapacity = queueCapacity
        var queues: [[Int]] = [[]]
        for (i, stage) in stages.enumerated() {
            if stage.runsOnOwnQueue { queues.append([i]) } else { queues[queues.count - 1].append(i) }
        }
        self.queues = queues
    }

    /// Stops the run soon; safe from any thread, also before `run` starts.
    public func cancel() {
        lock.lock()
        cancelled = true
        let links = self.links
        lock.unlock()
        // Links into the last costly stage's queue and those before it; later frames are finished work.
        let lastCostly = stages.lastIndex { $0.isCostly } ?? -1
        for (q, link) in links.enumerated() where queues[q + 1][0] <= lastCostly { link.cancel() }
    }

    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    /// Runs every frame of `source` through the stages; frames outside `outputRange` are context only,
    /// except those from `processingStart` on, which are processed but not written (`isWarmUp`).
    public func run(source: FrameSource, description: RunDescription, outputRange: Range<Int> = 0..<Int.max,
                    processingStart: Int? = nil, progress: ((PoseJob.Progress) -> Void)? = nil) throws -> PoseJob.Summary {
        let processed = min(processingStart ?? outputRange.lowerBound, outputRange.lowerBound)..<outputRange.upperBound
        let clock = ContinuousClock.now
        let done = Tally()
        let failure = FirstError()
        let times = StageTimes()
        let closedOutput = Flag()
        let dropped = Tally(), flushed = Tally()
        // links[q − 1] feeds queue q.
        let links = queues.dropFirst().map { _ in BoundedQueue<PipelineFrame>(capacity: queueCapacity) }
        lock.lock()
        self.links = links
        let alreadyCancelled = cancelled
        lock.unlock()
        defer { lock.lock(); self.links = []; lock.unlock() }
        if alreadyCancelled { cancel() }
        let stopAll = { links.forEach { $0.cancel() } }

        var begun: [PipelineStage] = []
        do {
            for stage in stages { try stage.begin(description); begun.append(stage) }
        } catch {
            begun.forEach { $0.abort() }
            throw error
        }

        let group = DispatchGroup()
        for (q, indices) in queues.enumerated() {
            let chain = indices.map { stages[$0] }
            let next = q < links.count ? links[q] : nil
            let label = "posewarper." + (q == 0 ? "decode" : chain[0].name)
            DispatchQueue(label: label, qos: .userInitiated).async(group: group) {
                defer { chain.forEach { $0.stopped() }; next?.close() }
                // Frames through chain[from...], then on to the next queue; the last queue's frames
                // are done (counted, progress reported). False when the next queue is gone.
                func feed(_ frames: [PipelineFrame], from first: Int) throws -> Bool {
                    var frames = frames
                    for stage in chain[first...] {
                        var out: [PipelineFrame] = []
                        for frame in frames {
                            let t0 = ContinuousClock.now
                            out += try stage.process(frame)
                            times.add(stage.name, since: t0)
                        }
                        frames = out
                    }
                    for frame in frames {
                        if let next, q == 0 && self.dropsFramesWhenBehind && frame.isOutput {
                            // Behind a live source: drop this frame rather than stall the reading.
                            if !next.tryPush(frame) {
                                guard next.isOpen else { return false }
                                _ = dropped.add(persons: 0)
                            }
                        } else if let next {
                            if !next.push(frame) { return false }
                        } else {
                            let count = done.add(persons: frame.persons.count)
                            progress?(PoseJob.Progress(framesDone: count, framesTotal: description.frameCount,
                                                       seconds: (ContinuousClock.now - clock).seconds))
                        }
                    }
                    return true
                }
                do {
                    var open = true
                    if q == 0 {
                        while !self.isCancelled {
                            let t0 = ContinuousClock.now
                            guard let frame = try source.next() else { break }
                            times.add("decode", since: t0)
                            var item = PipelineFrame(frame: frame, isOutput: processed.contains(frame.index))
                            item.isWarmUp = item.isOutput && !outputRange.contains(frame.index)
                            if !(try feed([item], from: 0)) { open = false; break }
                        }
                    } else {
                        while let frame = links[q - 1].pop() {
                            if !(try feed([frame], from: 0)) { open = false; break }
                        }
                    }
                    // The end of the stream (not a cancellation or failure): release what is held,
                    // stage by stage.
                    if open && !self.isCancelled && failure.error == nil && !closedOutput.isSet {
                        var released = true
                        for (k, stage) in chain.enumerated() {
                            let t0 = ContinuousClock.now
                            let held = try stage.flush()
                            times.add(stage.name, since: t0)
                            if !(try feed(held, from: k + 1)) { released = false; break }
                        }
                        if released { _ = flushed.add(persons: 0) }
                    }
                } catch is OutputClosed {
                    closedOutput.set()
                    stopAll()
                } catch {
                    failure.record(error)
                    stopAll()
                }
            }
        }
        group.wait()

        if let error = failure.error {
            stages.forEach { $0.abort() }
            throw error
        }
        var summary = PoseJob.Summary()
        (summary.frames, summary.persons) = done.counts
        summary.cancelled = isCancelled
        summary.outputClosed = closedOutput.isSet
        summary.framesDropped = dropped.counts.0
        // Every queue released its last frames: the outputs saw the whole input (or range).
        summary.complete = flushed.counts.0 == queues.count && !summary.cancelled && !summary.outputClosed
        // Complete even after a closed stdout: the other outputs stay valid up to the last frame.
        var completeError: Error?
        for stage in stages {
            let t0 = ContinuousClock.now
            do { try stage.complete(allFrames: summary.complete) } catch is OutputClosed { summary.outputClosed = true } catch {
                if completeError == nil { completeError = error }
            }
            times.add(stage.name, since: t0)
        }
        if let completeError { throw completeError }
        summary.seconds = (ContinuousClock.now - clock).seconds
        summary.stageSeconds = times.snapshot()
        for stage in stages { stage.report(into: &summary) }
        return summary
    }
}

/// The first error any stage hit.
final class FirstError {
    private let lock = NSLock()
    private var first: Error?
    func record(_ e: Error) { lock.lock(); if first == nil { first = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return first }
}

/// Frames and persons that left the last stage.
final class Tally {
    private let lock = NSLock()
    private var frames = 0, persons = 0
    /// Counts one frame; returns the frames so far.
    func add(persons n: Int) -> Int { lock.lock(); defer { lock.unlock() }; frames += 1; persons += n; return frames }
    var counts: (Int, Int) { lock.lock(); defer { lock.unlock() }; return (frames, persons) }
}

/// A flag set from any thread.
final class Flag {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Seconds per stage, summed from several threads.
final class StageTimes {
    private let lock = NSLock()
    private var seconds: [String: Double] = [:]
    func add(_ stage: String, since start: ContinuousClock.Instant) {
        let s = (ContinuousClock.now - start).seconds
        lock.lock(); seconds[stage, default: 0] += s; lock.unlock()
    }
    func snapshot() -> [String: Double] { lock.lock(); defer { lock.unlock() }; return seconds }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

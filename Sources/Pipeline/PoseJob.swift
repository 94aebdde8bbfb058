import Dispatch
import Foundation
import Keypoints
import Tensors
import Video

/// The product's main job as a library: a video (file, folder, pattern or URL) in, keypoints of
/// every person in every frame out, to any combination of outputs.
///
///     let job = try PoseJob(pipelineFile: "Pipelines/posewarper-hrnet-w48-posetrack18-384x288.yml")
///     try job.run(input: "clip.mp4", persons: .wholeFrame, outputs: [.keypoints("clip.jsonl"), .video("clip-pose.mp4")])
///
/// A run is a `StagePipeline` (decode → persons → temporal window + crops + network → keypoint
/// decoding → tracking → outputs) on Dispatch queues joined by bounded queues.
/// Memory is bounded by the temporal window and the queue capacities, not by the video's length.
public final class PoseJob {
    /// Where person boxes come from for one run.
    public enum Persons {
        /// As the pipeline file says (its `persons` section).
        case pipeline
        /// One box covering each whole frame (single-person clips).
        case wholeFrame
        /// A COCO-detections / PoseWarper boxes file.
        case boxesFile(String)
        /// Any person source, e.g. a detector.
        case source(PersonSource)
    }

    /// One output of a run.
    public enum Output {
        /// JSON Lines keypoint stream; "-" is stdout.
        case keypoints(String)
        /// COCO keypoint results JSON.
        case coco(String)
        /// PoseTrack18 prediction JSON.
        case posetrack(String)
        /// The input video with skeletons drawn, at the input's timing, with its audio.
        case video(String)
        /// Any `PoseOutput`.
        case custom(PoseOutput)
    }

    /// What a run did.
    public struct Summary: Sendable {
        /// Frames written to the outputs (in order, with no gaps).
        public var frames = 0
        /// Persons written, over all frames.
        public var persons = 0
        /// Stopped by `cancel()` (Ctrl-C); the outputs are valid up to the last frame written.
        public var cancelled = false
        /// Stopped because a stream output's reader went away (e.g. `| head -1`).
        public var outputClosed = false
        /// Every frame of the input (or range) was written; false after a cancel or a closed stream.
        public var complete = false
        /// Outputs not produced because the run stopped early (COCO and PoseTrack files need every frame).
        public var notWritten: [String] = []
        /// Frames dropped to keep up with the source (`realtime`).
        public var framesDropped = 0
        /// Why decoding ended early (truncated input), when it did.
        public var decodeStopReason: String?
        /// Wall-clock seconds.
        public var seconds = 0.0
        /// Seconds spent in each stage (stages overlap, so these add up to more than `seconds`):
        /// decode, persons, network (= crop + backbone + neck, also listed), keypoint decoding,
        /// tracking, outputs.
        public var stageSeconds: [String: Double] = [:]
        /// Backbone crops computed, and crops whose encoding was reused from the cache.
        public var cropsEncoded = 0
        public var cropsReused = 0
        /// Frames the person detector ran on, and frames that took boxes from earlier keypoints
        /// instead (`persons.detector.every_n_frames`).
        public var framesDetected = 0
        public var framesFromKeypoints = 0
    }

    /// Progress after each written frame.
    public struct Progress: Sendable {
        public var framesDone: Int
        /// Frames the run will write, when known.
        public var framesTotal: Int?
        public var seconds: Double
        public var framesPerSecond: Double { seconds > 0 ? Double(framesDone) / seconds : 0 }
    }

    public let config: PipelineConfig
    let crops: CropStage
    let network: PoseNetwork
    let decoder: KeypointDecodingStage
    /// Capacity of each queue between stages.
    public var queueCapacity = 2
    /// Frame rate given to image folders and patterns, which carry no timing.
    public var imageSequenceFPS = 25.0
    /// Encoder settings of the annotated video.
    public var videoOptions = VideoWriterOptions()
    /// Receives warnings as soon as they are known (e.g. a boxes file with no box for this input).
    public var warn: (String) -> Void = { _ in }
    /// Keep up with a live source: when the network falls behind, decoded frames that find the
    /// queue full are dropped (counted in `Summary.framesDropped`) instead of holding the source back.
    /// The stream then skips those frame numbers; temporal windows use the nearest processed frames.
    public var realtime = false

    private let lock = NSLock()
    private var isCancelled = false
    private var active: StagePipeline?

    /// A job from explicit stages (tests, custom networks).
    public init(config: PipelineConfig, crops: CropStage, network: PoseNetwork, decoder: KeypointDecodingStage) {
        self.config = config
        self.crops = crops
        self.network = network
        self.decoder = decoder
    }

    /// Stops a running job soon (after the network call in progress); outputs are finished and valid
    /// up to the last frame written. Safe to call from any thread, e.g. a signal handler's queue; a
    /// cancelled job stays cancelled (a Ctrl-C during model loading still stops the run).
    public func cancel() {
        lock.lock()
        isCancelled = true
        let pipeline = active
        lock.unlock()
        pipeline?.cancel()
    }

    var cancelled: Bool { lock.lock(); defer { lock.unlock() }; return isCancelled }

    /// Runs the job on `input` (file, image folder, printf pattern or URL); frames `start..<end` only
    /// when given (neighbouring frames outside the range are still read for the temporal window,
    /// so a segment's keypoints equal those of a whole-video run). `segment` gives that range as one
    /// input's share of a `--segment` (`FrameSegment.shares`, `part(of:in:)`) and records it in the
    /// keypoint stream's header for `merge`, with the paths of the other outputs.
    @discardableResult
    public func run(input: String, persons: Persons = .pipeline, outputs: [Output], start: Int? = nil, end: Int? = nil,
                    segment: SegmentPart? = nil, decoderThreads: Int = 0, progress: ((Progress) -> Void)? = nil) throws -> Summary {
        // A segment is a --start/--end range, recorded in the stream's header.
        var start = start, end = end
        var segmentHeader: KeypointStreamHeader.Segment?
        if let segment {
            guard start == nil && end == nil else { throw PipelineError.badInput("--segment and --start/--end exclude each other") }
            (start, end) = (segment.frames.lowerBound, segment.frames.upperBound)
            segmentHeader = .init(index: segment.segment.index, count: segment.segment.count, start: segment.frames.lowerBound,
                                  end: segment.frames.upperBound, sourceFrames: segment.inputFrames, tracking: config.tracking.method.rawValue,
                                  trackingThreshold: config.tracking.threshold, input: input)
            let stream = outputs.lazy.compactMap { if case let .keypoints(p) = $0 { return p }; return nil }.first
            for output in outputs {
                switch output {
                case let .coco(p): segmentHeader?.coco = SegmentFiles.companion(p, ofStream: stream)
                case let .posetrack(p): segmentHeader?.posetrack = SegmentFiles.companion(p, ofStream: stream)
                case let .video(p): segmentHeader?.video = SegmentFiles.companion(p, ofStream: stream)
                default: break
                }
            }
        }
        if let start, start < 0 { throw PipelineError.badInput("--start must be 0 or more (got \(start))") }
        if let start, let end, end <= start { throw PipelineError.badInput("--end (\(end)) must be after --start (\(start))") }
        try OutputPlan.check(outputs, inputs: [input, config.model.weights].compactMap { $0 } + persons.inputFiles(config), schema: config.model.schema)
        // A detector that skips frames starts at the detection before `start`: see `processingStart`.
        let processingStart = start.map { self.processingStart(outputStart: $0, persons: persons) }
        let readStart = processingStart.map { max(0, $0 - config.lookBehind) }
        let readEnd = end.map { $0 + config.lookAhead }
        let reader: VideoReader
        do {
            reader = try VideoReader(input, start: readStart.map { .frame($0) }, end: readEnd.map { .frame($0) },
                                     options: VideoReaderOptions(threads: decoderThreads, imageSequenceFPS: imageSequenceFPS,
                                                                 keepAudio: outputs.contains { if case .video = $0 { return true }; return false }))
        } catch VideoError.invalidRange where start != nil {
            // The read starts before --start (the temporal window): report the user's frame.
            let count = (try? VideoReader(input, options: VideoReaderOptions(imageSequenceFPS: imageSequenceFPS)))?.info.frameCount
            throw PipelineError.badInput("\(input): --start \(start!) is past the last frame" + (count.map { " (\($0 - 1)); the input has \($0) frames" } ?? ""))
        } catch {
            throw PipelineError.badInput("\(error)")
        }
        if let start, let n = reader.info.frameCount, start >= n {
            throw PipelineError.badInput("\(input): --start \(start) is past the last frame (\(n - 1)); the input has \(n) frames")
        }
        let source = try FirstFrameChecked(reader)
        let frameNames = imageFolderFrameNames(input)
        var poseTrackVideo: Int?
        let personSource = try makePersonSource(persons, input: input, frameNames: frameNames, poseTrackVideo: &poseTrackVideo)
        var description = RunDescription(schema: config.model.schema, input: input, width: reader.info.width, height: reader.info.height,
                                 fps: reader.info.averageFPS, frameCount: nil, frameNames: frameNames, source: reader.info)
        if let video = poseTrackVideo { description.imageIDs = .poseTrack(video: video); description.poseTrackVideo = video }
        description.audioPackets = reader.audioPackets
        description.segment = segmentHeader
        if let n = reader.info.frameCount {
            let first = start ?? 0
            let last = min(n, end ?? n)
            description.frameCount = max(0, last - first)
        } else if let start, let end { description.frameCount = end - start }
        let sinks = try outputs.map { try makeOutput($0, range: start != nil || end != nil) }
        var summary = try run(source: source, persons: personSource, outputs: sinks, description: description,
                              outputRange: (start ?? 0)..<(end ?? Int.max), processingStart: processingStart, progress: progress)
        summary.decodeStopReason = reader.stopReason
        if let start, summary.complete, summary.frames == 0 {
            warn("\(input): no frame at or after --start \(start) (the input ended after \(reader.framesDelivered) frames read)")
        }
        return summary
    }

    /// The first frame a run whose output starts at `outputStart` processes. A detector that runs on
    /// every N-th frame only (`every_n_frames` > 1) runs on frames 0, N, 2N, … of a whole-video run,
    /// and the frames between take boxes from the keypoints of earlier frames; so a range starting
    /// between two detections starts at the detection before it (at most N − 1 frames earlier): those
    /// frames are processed like the whole run's — same detections, same keypoint boxes — but not
    /// written, and the range's keypoints equal the whole run's.
    public func processingStart(outputStart: Int, persons: Persons) -> Int {
        let everyN = config.persons.detector.everyNFrames ?? 1
        guard everyN > 1 else { return outputStart }
        let detector: Bool
        switch persons {
        case let .source(s): detector = s is PersonDetector
        case .pipeline: detector = config.persons.source == .detector
        case .wholeFrame, .boxesFile: detector = false
        }
        return detector ? outputStart - outputStart % everyN : outputStart
    }

    func makePersonSource(_ persons: Persons, input: String, frameNames: [String]?, poseTrackVideo: inout Int?) throws -> PersonSource {
        switch persons {
        case .wholeFrame: return WholeFramePersons()
        case let .source(s): return s
        case let .boxesFile(path): return try boxesSource(path, input: input, frameNames: frameNames, poseTrackVideo: &poseTrackVideo)
        case .pipeline:
            switch config.persons.source {
            case .wholeFrame: return WholeFramePersons()
            case .detector:
                guard let weights = config.persons.detector.weights else {
                    throw PipelineError.badInput("\(config.path ?? "pipeline"): persons.source is detector but persons.detector.weights is not set; set it or pass --detector FILE")
                }
                return try DetectorPersons(weights: weights, section: config.persons.detector)
            case .boxesFile:
                guard let path = config.persons.boxesFile else {
                    throw PipelineError.badInput("no person boxes: pass --boxes FILE (COCO detections or PoseWarper boxes) or --whole-frame")
                }
                return try boxesSource(path, input: input, frameNames: frameNames, poseTrackVideo: &poseTrackVideo)
            }
        }
    }

    private func boxesSource(_ path: String, input: String, frameNames: [String]?, poseTrackVideo: inout Int?) throws -> PersonSource {
        let file = try BoxesFile(path: path, input: input, frameNames: frameNames,
                                 scoreThreshold: config.persons.scoreThreshold, nmsThreshold: config.persons.nmsThreshold)
        if file.mapping == .poseTrackID { poseTrackVideo = file.videoID }
        if file.boxes.isEmpty {
            warn("\(path): no person box for this input (after the score threshold \(config.persons.scoreThreshold)); every frame will have 0 persons")
        }
        return BoxesFilePersons(file)
    }

    func makeOutput(_ output: Output, range: Bool) throws -> PoseOutput {
        switch output {
        case let .keypoints(path): return KeypointStreamOutput(path: path)
        case let .coco(path): return COCOResultsOutput(path: path, rescoreThreshold: config.output.rescoreThreshold)
        case let .posetrack(path): return PoseTrackOutput(path: path, rescoreThreshold: config.output.rescoreThreshold)
        case let .video(path):
            // A segment's video carries the segment's audio only; a realtime run may drop the
            // source's last frames, so its audio ends with the last frame written as well.
            let video = AnnotatedVideoOutput(path: path, renderer: try SkeletonPoseRenderer(schema: config.model.schema, output: config.output),
                                             options: videoOptions, trimAudio: range || realtime)
            video.warn = warn
            return video
        case let .custom(o): return o
        }
    }

    /// The stages of a run, in order (`StagePipeline` draws the flow). A new stage is one line here.
    func stages(persons: PersonSource, outputs: [PoseOutput]) -> [PipelineStage] {
        let detector = persons as? PersonDetector
        let everyN = config.persons.detector.everyNFrames ?? 1
        let keypointBoxes = detector != nil && everyN > 1 ? KeypointBoxes() : nil
        // With keypoint feedback the network stage holds no frame beyond its window, so the boxes of a
        // skipped frame come from the keypoints of the frame right behind the window (mmpose's and
        // rtmlib's demos use the latest keypoints they have).
        let poses = PoseEstimationStage(crops: crops, network: network, frameOffsets: config.temporal.frameOffsets,
                                        concurrentWindows: keypointBoxes == nil ? nil : 1)
        // Keypoints reach the tracking stage `lag` frames after the detector stage passed their frame
        // on: the window's look-ahead plus the frames the network stage holds.
        let lag = 1 + config.lookAhead + poses.heldFrames
        let stages: [PipelineStage?] = [
            detector.map { DetectorStage($0, everyNFrames: everyN, lag: lag, keypointBoxes: keypointBoxes) } ?? PersonsStage(persons),
            poses,
            KeypointsStage(decoder),
            TrackingStage(PoseTracker(method: config.tracking.method, threshold: config.tracking.threshold), keypointBoxes: keypointBoxes),
            config.smoothing.method.map { SmoothingStage(method: $0, scoreThreshold: config.smoothing.scoreThreshold) },
            OutputsStage(outputs),
        ]
        return stages.compactMap { $0 }
    }

    /// Runs the stages over an already opened source (the core every `run` goes through).
    /// Frames from `processingStart` (default: the range's start) to the range's start are processed
    /// but not written (`processingStart(outputStart:persons:)`).
    public func run(source: FrameSource, persons: PersonSource, outputs: [PoseOutput], description: RunDescription,
                    outputRange: Range<Int> = 0..<Int.max, processingStart: Int? = nil,
                    progress: ((Progress) -> Void)? = nil) throws -> Summary {
        let pipeline = StagePipeline(stages: stages(persons: persons, outputs: outputs), queueCapacity: queueCapacity)
        lock.lock()
        active = pipeline
        let alreadyCancelled = isCancelled
        lock.unlock()
        defer { lock.lock(); active = nil; lock.unlock() }
        // Cancelled before the first frame: no output is touched.
        if alreadyCancelled { var summary = Summary(); summary.cancelled = true; return summary }
        pipeline.dropsFramesWhenBehind = realtime
        var summary = try pipeline.run(source: source, description: description, outputRange: outputRange,
                                       processingStart: processingStart, progress: progress)
        summary.decodeStopReason = (source as? VideoReader)?.stopReason
        return summary
    }
}

extension PoseJob.Persons {
    /// The files this source reads (a boxes file, the detector weights): inputs no output may replace.
    public func inputFiles(_ config: PipelineConfig) -> [String] {
        switch self {
        case let .boxesFile(path): return [path]
        case .pipeline where config.persons.source == .boxesFile: return config.persons.boxesFile.map { [$0] } ?? []
        case .pipeline where config.persons.source == .detector: return config.persons.detector.weights.map { [$0] } ?? []
        default: return []
        }
    }
}

/// The person-detector stage: runs the detector network (on its own queue, so it overlaps with the
/// pose network) on the first output frame and every `everyNFrames`-th output frame after it. The
/// frames between take the boxes of earlier keypoints, as rtmlib's and mmpose's video demos do: the
/// keypoints of the frame `lag` frames back (see `KeypointBoxes` for why that one), or the last
/// detection's boxes while that frame is not newer than the last detection. Tracking then matches
/// persons across detected and keypoint-boxed frames alike, so ids carry over.
public final class DetectorStage: PipelineStage {
    public let name = "detector"
    public var isCostly: Bool { true }
    public let detector: PersonDetector
    public let everyNFrames: Int
    /// Frames back whose keypoints give the boxes (1 + the temporal window's look-ahead + the frames
    /// the network stage holds).
    public let lag: Int
    /// The tracking stage's keypoint boxes; nil when every frame is detected.
    let keypointBoxes: KeypointBoxes?

    /// Frames seen so far (positions count every frame, like the network stage's window).
    private var position = 0
    /// Index of each frame seen, by position, and whether it was an output frame: the last `lag` + 1.
    private var recent: [(index: Int, isOutput: Bool)] = []
    private var outputFramesSeen = 0
    /// The last detection: its position and boxes.
    private var lastDetection: (position: Int, boxes: [PersonBox])?
    /// Frames detected, and frames given keypoint boxes (for the summary).
    public private(set) var framesDetected = 0
    public private(set) var framesFromKeypoints = 0

    public init(_ detector: PersonDetector, everyNFrames: Int = 1, lag: Int = 1, keypointBoxes: KeypointBoxes? = nil) {
        precondition(everyNFrames >= 1 && lag >= 1)
        self.detector = detector
        self.everyNFrames = everyNFrames
        self.lag = lag
        self.keypointBoxes = everyNFrames > 1 ? keypointBoxes : nil
    }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        var frame = frame
        defer {
            recent.append((frame.frame.index, frame.isOutput))
            if recent.count > lag { recent.removeFirst(recent.count - lag) }
            position += 1
        }
        // Frames outside the output range are only temporal context: no persons to find.
        guard frame.isOutput else { return [frame] }
        defer { outputFramesSeen += 1 }
        // `recent.first` is the frame `lag` positions back once `lag` frames were seen.
        let source = recent.count == lag ? recent.first : nil
        if outputFramesSeen % everyNFrames == 0 {
            frame.boxes = try detector.boxes(in: frame.frame)
            lastDetection = (position, frame.boxes)
            framesDetected += 1
            if let source { keypointBoxes?.forget(through: source.index) }
        } else if let source, source.isOutput, let last = lastDetection, position - lag >= last.position, let keypointBoxes {
            frame.boxes = keypointBoxes.boxes(frame: source.index) ?? []
            framesFromKeypoints += 1
        } else {
            frame.boxes = lastDetection?.boxes ?? []
        }
        return [frame]
    }

    public func report(into summary: inout PoseJob.Summary) {
        summary.framesDetected = framesDetected
        summary.framesFromKeypoints = framesFromKeypoints
    }
}

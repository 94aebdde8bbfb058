import Keypoints

/// The outputs stage: every finished frame to every output, in frame order. Outputs open before
/// any work (a bad path fails fast), finish after the last frame (also after a cancellation or a
/// closed stdout, so each stays valid up to the last frame written) and are aborted after a failure.
public final class OutputsStage: PipelineStage {
    public let name = "outputs"
    /// Rendering and encoding overlap with the network.
    public var runsOnOwnQueue: Bool { true }
    public let outputs: [PoseOutput]
    /// Outputs not produced because the run stopped early (their paths).
    private var notWritten: [String] = []

    public init(_ outputs: [PoseOutput]) { self.outputs = outputs }

    public func begin(_ run: RunDescription) throws {
        var begun: [PoseOutput] = []
        do {
            // The live keypoint stream last, so a failing output never truncates an existing stream file.
            for o in outputs.filter({ !($0 is KeypointStreamOutput) }) + outputs.filter({ $0 is KeypointStreamOutput }) {
                try o.begin(run); begun.append(o)
            }
        } catch {
            begun.forEach { $0.abort() }
            throw error
        }
    }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        guard !frame.isWarmUp else { return [] }
        let result = FrameResult(keypoints: FrameKeypoints(frame: frame.frame.index, time: frame.frame.time, persons: frame.persons),
                                 image: frame.frame)
        for o in outputs { try o.write(result) }
        return [frame]
    }

    /// Finishes every output; one that fails is aborted, the others stay finished. After an early
    /// stop, outputs that must cover every frame (COCO, PoseTrack) are dropped (`finishIncomplete`).
    public func complete(allFrames: Bool) throws {
        var firstError: Error?
        var closed: OutputClosed?
        for o in outputs {
            do {
                if allFrames { try o.finish() } else if let path = try o.finishIncomplete() { notWritten.append(path) }
            } catch let e as OutputClosed { closed = closed ?? e } catch {
                if firstError == nil { firstError = error }
                o.abort()
            }
        }
        if let firstError { throw firstError }
        if let closed { throw closed }
    }

    public func abort() { outputs.forEach { $0.abort() } }

    public func report(into summary: inout PoseJob.Summary) { summary.notWritten += notWritten }
}

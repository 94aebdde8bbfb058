import Keypoints

/// The outputs stage: every finished frame to every output, in frame order. Outputs open before
/// any work (a bad path fails fast), finish after the last frame (also after a cancellation or a
/// closed stdout, so each stays valid up to the last frame written) and are aborted after a failure.
public final class OutputsStage: PipelineStage {
    public let name = "outputs"
    public let outputs: [PoseOutput]

    public init(_ outputs: [PoseOutput]) { self.outputs = outputs }

    public func begin(_ run: RunDescription) throws {
        var begun: [PoseOutput] = []
        do {
            for o in outputs { try o.begin(run); begun.append(o) }
        } catch {
            begun.forEach { $0.abort() }
            throw error
        }
    }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        let result = FrameResult(keypoints: FrameKeypoints(frame: frame.frame.index, time: frame.frame.time, persons: frame.persons),
                                 image: frame.frame)
        for o in outputs { try o.write(result) }
        return [frame]
    }

    /// Finishes every output; one that fails is aborted, the others stay finished.
    public func complete() throws {
        var firstError: Error?
        var closed: OutputClosed?
        for o in outputs {
            do { try o.finish() } catch let e as OutputClosed { closed = closed ?? e } catch {
                if firstError == nil { firstError = error }
                o.abort()
            }
        }
        if let firstError { throw firstError }
        if let closed { throw closed }
    }

    public func abort() { outputs.forEach { $0.abort() } }
}

/// The persons stage: each output frame's person boxes from a person source (boxes file, whole
/// frame, detector).
public final class PersonsStage: PipelineStage {
    public let name = "persons"
    public let source: PersonSource
    /// A detector runs a network on every frame.
    public var isCostly: Bool { source is PersonDetector }

    public init(_ source: PersonSource) { self.source = source }

    public func process(_ frame: PipelineFrame) throws -> [PipelineFrame] {
        var frame = frame
        // Frames outside the output range are only temporal context: no persons to find.
        if frame.isOutput { frame.boxes = try source.boxes(in: frame.frame) }
        return [frame]
    }
}

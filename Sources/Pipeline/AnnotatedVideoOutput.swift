import Foundation
import Keypoints
import Video

/// Draws one frame's persons onto its picture (the render stage of the annotated video).
public protocol PoseRenderer: AnyObject {
    func draw(_ persons: [PersonPose], on frame: inout VideoFrame)
}

/// The annotated video: each frame with its skeletons drawn, encoded by the Video module's writer at
/// the input's timing (same pts) with the input's audio copied. Written to a temporary file and
/// moved into place by `finish` (also after Ctrl-C: a valid, shorter video); `abort` removes it.
public final class AnnotatedVideoOutput: PoseOutput {
    private let path: String
    private let renderer: PoseRenderer
    private let options: VideoWriterOptions
    private let trimAudio: Bool
    private var writer: VideoWriter?
    /// Receives non-fatal problems (audio that cannot be copied).
    public var warn: (String) -> Void = { _ in }

    /// `trimAudio`: cut the audio after the last frame (for runs over a frame range).
    public init(path: String, renderer: PoseRenderer, options: VideoWriterOptions = .init(), trimAudio: Bool = false) {
        self.path = path
        self.renderer = renderer
        self.options = options
        self.trimAudio = trimAudio
    }

    public func begin(_ run: RunDescription) throws {
        guard let info = run.source else {
            throw PipelineError.internalFailure("\(path): the annotated video needs the source's timing")
        }
        // Image folders and patterns have no audio to copy; pipes and live streams cannot be reopened for it.
        var audio = options.copyAudio && info.hasAudio && info.container != "image-sequence" ? run.input : nil
        var packets: AudioPackets?
        if audio != nil && !info.canReopen {
            // A source read once: its audio packets were kept while decoding.
            audio = nil
            packets = run.audioPackets
            if packets == nil { warn("\(path): the audio of \(run.input) is not copied: a pipe or live stream cannot be read a second time") }
        }
        writer = try VideoWriter(path: path, info: info, audioSource: audio, audioPackets: packets, trimAudioToRange: trimAudio, options: options)
        writer?.warnings.forEach(warn)
    }

    public func write(_ frame: FrameResult) throws {
        var image = frame.image
        renderer.draw(frame.keypoints.persons, on: &image)
        try writer?.write(image)
    }

    public func finish() throws {
        guard let writer else { return }
        if writer.framesWritten == 0 {
            // Nothing was decoded before the stop: no video rather than an invalid one.
            writer.abort()
            return
        }
        try writer.finish()
    }

    /// A stopped run's video is valid up to its last frame, its audio cut there too.
    public func finishIncomplete() throws -> String? {
        guard let writer else { return nil }
        if writer.framesWritten == 0 {
            writer.abort()
            return path
        }
        try writer.finish(cuttingAudioAtLastFrame: true)
        return nil
    }

    public func abort() { writer?.abort() }
}

/// The Video module's skeleton renderer, styled by the pipeline's output section; keeps the motion
/// trails across the frames it is given (in order).
public final class SkeletonPoseRenderer: PoseRenderer {
    let renderer: SkeletonRenderer
    private let trails: MotionTrails?

    /// Throws a bad-input error naming the font file when labels are on and it is missing.
    public init(schema: KeypointSchema, output: PipelineConfig.Output) throws {
        let style = RenderStyle(keypointThreshold: output.drawThreshold, radius: output.radius.map(Double.init),
                                thickness: output.thickness.map(Double.init), drawBoxes: output.drawBoxes,
                                label: output.label, colorBy: output.colorBy, showLow: output.showLow,
                                trails: output.trails, fontPath: output.font)
        do { renderer = try SkeletonRenderer(schema: schema, style: style) } catch {
            throw PipelineError.badInput("\(error)")
        }
        trails = output.trails > 0 ? MotionTrails(length: output.trails) : nil
    }

    public func draw(_ persons: [PersonPose], on frame: inout VideoFrame) {
        trails?.record(frame: frame.index, persons: persons)
        renderer.draw(persons, on: &frame, trails: trails)
    }
}

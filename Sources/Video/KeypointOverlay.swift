import Keypoints

/// What an overlay render did.
public struct OverlayReport: Sendable {
    public var framesWritten = 0
    /// Video frames that had a keypoint-stream line.
    public var framesWithKeypoints = 0
    /// Keypoint-stream frames with no matching video frame (past the end, or outside the range).
    public var unmatchedKeypointFrames = 0
    /// Why decoding stopped early (a truncated input), when it did.
    public var stopReason: String?
    /// Other non-fatal problems (audio left out, header size mismatch …).
    public var warnings: [String] = []
    public var encoder = ""
    public var outputWidth = 0, outputHeight = 0
}

/// Draws a keypoint stream onto a video: the `posewarper render` job.
public enum KeypointOverlay {
    /// Checks that every person has one keypoint per schema slot; the error names the stream file and frame.
    public static func validate(_ frames: [FrameKeypoints], schema: KeypointSchema, path: String) throws {
        for f in frames {
            for (i, p) in f.persons.enumerated() where p.keypoints.count != schema.keypoints.count {
                throw KeypointStreamError.unreadable(path: path,
                    reason: "frame \(f.frame), persons[\(i)] has \(p.keypoints.count) keypoints but schema \(schema.name) has \(schema.keypoints.count)")
            }
        }
    }

    /// Decodes `input`, draws the persons of the stream line whose `frame` equals each frame's index,
    /// (over motion trails when `style.trails` > 0) and encodes to `output` keeping the input's timing
    /// and audio. A missing label font throws before anything is written. `shouldStop` is polled between
    /// frames (Ctrl-C): then the output is removed and `VideoError.interrupted` thrown. On any error
    /// the output is removed (see VideoWriter).
    public static func render(input: String, keypoints: [FrameKeypoints], schema: KeypointSchema, output: String,
                              style: RenderStyle = .init(), writerOptions: VideoWriterOptions = .init(),
                              readerOptions: VideoReaderOptions = .init(), start: FramePosition? = nil, end: FramePosition? = nil,
                              expectedSize: (width: Int, height: Int)? = nil, shouldStop: () -> Bool = { false }) throws -> OverlayReport {
        // The font first: a missing one fails before any file is opened or created.
        let renderer = try SkeletonRenderer(schema: schema, style: style)
        let reader = try VideoReader(input, start: start, end: end, options: readerOptions)
        let writer = try VideoWriter(path: output, like: reader, options: writerOptions)
        var report = OverlayReport()
        if let e = expectedSize, e.width != reader.info.width || e.height != reader.info.height {
            report.warnings.append("the keypoints were made for \(e.width)x\(e.height) frames but \(input) has \(reader.info.width)x\(reader.info.height)")
        }
        report.encoder = writer.encoderName
        report.outputWidth = writer.encodedWidth
        report.outputHeight = writer.encodedHeight
        var byFrame: [Int: [PersonPose]] = [:]
        for f in keypoints { byFrame[f.frame, default: []] += f.persons }
        let trails = style.trails > 0 ? MotionTrails(length: style.trails) : nil
        var matched = Set<Int>()
        do {
            while let decoded = try reader.next() {
                if shouldStop() { throw VideoError.interrupted(output) }
                var frame = decoded
                let persons = byFrame[frame.index]
                if persons != nil { matched.insert(frame.index) }
                // Frames without a stream line still age the trails.
                trails?.record(frame: frame.index, persons: persons ?? [])
                if persons != nil || trails != nil { renderer.draw(persons ?? [], on: &frame, trails: trails) }
                try writer.write(frame)
            }
            if shouldStop() { throw VideoError.interrupted(output) }
            if writer.framesWritten == 0 {
                throw VideoError.decodeFailed(input, reason: "no frame could be decoded" + (reader.stopReason.map { ": \($0)" } ?? " in the range"))
            }
            try writer.finish()
        } catch {
            writer.abort()
            throw error
        }
        report.framesWritten = writer.framesWritten
        report.framesWithKeypoints = matched.count
        report.unmatchedKeypointFrames = Set(byFrame.keys).subtracting(matched).count
        report.stopReason = reader.stopReason
        report.warnings += writer.warnings
        return report
    }
}

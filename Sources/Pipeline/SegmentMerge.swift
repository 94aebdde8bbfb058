import Foundation
import Keypoints

/// Joins the keypoint streams of one input's segments (`run --segment i/n`) into the stream a single
/// run would have written: frames in order, every frame exactly once, and track ids continued across
/// segment borders.
///
/// Each segment's tracker starts afresh, so its ids are local. At a border the first frame's persons
/// are matched to the previous segment's last frame by the run's own rule (`PoseTracker.match`: the
/// method and threshold the header records), and every other local track gets the next free id in
/// order of first appearance, as the single run's tracker hands them out. The merged ids therefore
/// equal a single run's (below PoseTracker's 10000-id wrap-around).
public enum SegmentMerge {
    /// One part as read from its file.
    public struct Part {
        public let path: String
        public let header: KeypointStreamHeader
        public let segment: KeypointStreamHeader.Segment
        public let frames: [FrameKeypoints]
    }

    /// Reads a segment's stream; its header must carry the segment.
    public static func read(_ path: String) throws -> Part {
        let (header, frames) = try KeypointStream.read(path: path)
        guard let header, let segment = header.segment else {
            throw PipelineError.badInput("\(path): not a segment's keypoint stream (its header names no segment); write the parts with run --segment i/n")
        }
        return Part(path: path, header: header, segment: segment, frames: frames)
    }

    /// The merged stream of `parts` (any order); refuses parts of different runs, a missing or
    /// repeated segment, and a part that does not hold every frame of its range.
    public static func merge(_ parts: [Part]) throws -> (header: KeypointStreamHeader, frames: [FrameKeypoints]) {
        guard let first = parts.first else { throw PipelineError.badInput("merge: no parts given") }
        let n = first.segment.count, total = first.segment.sourceFrames
        for part in parts.dropFirst() {
            let s = part.segment
            func differ(_ what: String) -> PipelineError {
                .badInput("\(part.path): \(what) differs from \(first.path)'s: the parts are not of one run")
            }
            if part.header.schema != first.header.schema { throw differ("the keypoint schema") }
            if part.header.video?.width != first.header.video?.width || part.header.video?.height != first.header.video?.height
                || part.header.video?.fps != first.header.video?.fps { throw differ("the video size or frame rate") }
            if s.count != n { throw differ("the number of segments (\(s.count))") }
            if s.sourceFrames != total { throw differ("the input's frame count (\(s.sourceFrames))") }
            if s.tracking != first.segment.tracking || s.trackingThreshold != first.segment.trackingThreshold { throw differ("the tracking method") }
        }
        var byIndex: [Int: Part] = [:]
        for part in parts {
            if let other = byIndex[part.segment.index] {
                throw PipelineError.badInput("\(part.path) and \(other.path) are both segment \(part.segment.index)/\(n): frames "
                                             + "\(part.segment.start)..<\(part.segment.end) would be written twice")
            }
            byIndex[part.segment.index] = part
        }
        let ordered = try (0..<n).map { i -> Part in
            let expected = (try FrameSegment(index: i, count: n)).range(frameCount: total)
            guard let part = byIndex[i] else {
                throw PipelineError.badInput("segment \(i)/\(n) is missing: frames \(expected.lowerBound)..<\(expected.upperBound) of \(total) "
                                             + "are not in any part given")
            }
            let s = part.segment
            guard s.start == expected.lowerBound, s.end == expected.upperBound else {
                throw PipelineError.badInput("\(part.path): covers frames \(s.start)..<\(s.end), but segment \(i)/\(n) of \(total) frames is "
                                             + "\(expected.lowerBound)..<\(expected.upperBound)")
            }
            let numbers = part.frames.map(\.frame)
            if numbers != Array(s.start..<s.end) {
                let firstWrong = zip(numbers, s.start..<s.end).first { $0.0 != $0.1 }
                let what = firstWrong.map { "frame \($0.1) is followed by frame \($0.0)" }
                    ?? (numbers.count < s.end - s.start ? "it ends after \(numbers.count) of \(s.end - s.start) frames (was the task stopped?)"
                        : "it holds frames past \(s.end - 1)")
                throw PipelineError.badInput("\(part.path): segment \(i)/\(n) must hold frames \(s.start)..<\(s.end) in order, but \(what); "
                                             + "rerun that segment")
            }
            return part
        }
        let method = PipelineConfig.TrackingMethod(rawValue: first.segment.tracking) ?? .iou
        var frames: [FrameKeypoints] = []
        frames.reserveCapacity(total)
        var nextID = 0
        for part in ordered {
            // Local id → merged id; the border frame's matches first, then new ids as they appear.
            var ids: [Int: Int] = [:]
            if let last = frames.last, let border = part.frames.first {
                let matches = PoseTracker.match(border.persons, to: last.persons, method: method, threshold: first.segment.trackingThreshold)
                for (c, p) in matches.enumerated() {
                    if let p, let local = border.persons[c].trackID, let merged = last.persons[p].trackID { ids[local] = merged }
                }
            }
            for var frame in part.frames {
                for i in frame.persons.indices {
                    guard let local = frame.persons[i].trackID else { continue }
                    if let merged = ids[local] { frame.persons[i].trackID = merged; continue }
                    let merged = nextID % PoseTracker.idLimit
                    nextID = merged + 1
                    ids[local] = merged
                    frame.persons[i].trackID = merged
                }
                frames.append(frame)
            }
        }
        var header = first.header
        header.segment = nil
        header.video?.frames = total
        return (header, frames)
    }
}

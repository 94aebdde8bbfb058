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

    /// A merged input: the stream a single run writes, and the parts in frame order.
    public struct Merged {
        public let header: KeypointStreamHeader
        public let frames: [FrameKeypoints]
        public let parts: [Part]
    }

    /// The parts grouped by the input they cover (the header's `input`), in order of first appearance.
    public static func byInput(_ parts: [Part]) -> [[Part]] {
        var groups: [[Part]] = []
        var position: [String: Int] = [:]
        for part in parts {
            let key = part.segment.input ?? ""
            if let i = position[key] { groups[i].append(part) } else { position[key] = groups.count; groups.append([part]) }
        }
        return groups
    }

    /// The merged stream of one input's `parts` (any order); refuses parts of different runs or
    /// inputs, frames covered by no part or by two, and a part that does not hold every frame of its range.
    public static func merge(_ parts: [Part]) throws -> Merged {
        guard let first = parts.first else { throw PipelineError.badInput("merge: no parts given") }
        let total = first.segment.sourceFrames
        for part in parts.dropFirst() {
            let s = part.segment
            func differ(_ what: String) -> PipelineError {
                .badInput("\(part.path): \(what) differs from \(first.path)'s: the parts are not of one run")
            }
            if s.input != first.segment.input {
                throw PipelineError.badInput("\(part.path) is a part of \(s.input ?? "?"), \(first.path) of \(first.segment.input ?? "?"): "
                                             + "merge joins the parts of one input (give each input's parts, or an output template such as out/{stem}.jsonl)")
            }
            if part.header.schema != first.header.schema { throw differ("the keypoint schema") }
            if part.header.video?.width != first.header.video?.width || part.header.video?.height != first.header.video?.height
                || part.header.video?.fps != first.header.video?.fps { throw differ("the video size or frame rate") }
            if s.count != first.segment.count { throw differ("the number of segments (\(s.count))") }
            if s.sourceFrames != total { throw differ("the input's frame count (\(s.sourceFrames))") }
            if s.tracking != first.segment.tracking || s.trackingThreshold != first.segment.trackingThreshold { throw differ("the tracking method") }
        }
        // In frame order, every frame of the input exactly once.
        let ordered = parts.sorted { ($0.segment.start, $0.segment.end) < ($1.segment.start, $1.segment.end) }
        func frames(_ p: Part) -> String { "\(p.path) (segment \(p.segment.index)/\(p.segment.count), frames \(p.segment.start)..<\(p.segment.end))" }
        if let lowest = ordered.first, lowest.segment.start > 0 {
            throw PipelineError.badInput("frames 0..<\(lowest.segment.start) of \(total) are in no part given (the first is \(frames(lowest))): "
                                         + "is a segment missing?")
        }
        for (a, b) in zip(ordered, ordered.dropFirst()) {
            if b.segment.start < a.segment.end {
                if a.segment.index == b.segment.index && a.segment.start == b.segment.start {
                    throw PipelineError.badInput("\(a.path) and \(b.path) are both segment \(a.segment.index)/\(a.segment.count): frames "
                                                 + "\(a.segment.start)..<\(a.segment.end) would be written twice; give each part once")
                }
                throw PipelineError.badInput("\(frames(a)) and \(frames(b)) overlap: frames \(b.segment.start)..<\(min(a.segment.end, b.segment.end)) "
                                             + "would be written twice")
            }
            if b.segment.start > a.segment.end {
                throw PipelineError.badInput("frames \(a.segment.end)..<\(b.segment.start) of \(total) are in no part given (between \(frames(a)) "
                                             + "and \(frames(b))): is a segment missing?")
            }
        }
        if let highest = ordered.last, highest.segment.end < total {
            throw PipelineError.badInput("frames \(highest.segment.end)..<\(total) of \(total) are in no part given (the last is \(frames(highest))): "
                                         + "is a segment missing?")
        }
        for part in ordered {
            let s = part.segment
            let numbers = part.frames.map(\.frame)
            if numbers != Array(s.start..<s.end) {
                let firstWrong = zip(numbers, s.start..<s.end).first { $0.0 != $0.1 }
                let what = firstWrong.map { "frame \($0.1) is followed by frame \($0.0)" }
                    ?? (numbers.count < s.end - s.start ? "it ends after \(numbers.count) of \(s.end - s.start) frames (was the task stopped?)"
                        : "it holds frames past \(s.end - 1)")
                throw PipelineError.badInput("\(part.path): segment \(s.index)/\(s.count) must hold frames \(s.start)..<\(s.end) in order, but \(what); "
                                             + "rerun that segment")
            }
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
        return Merged(header: header, frames: frames, parts: ordered)
    }
}

extension SegmentMerge {
    /// Writes the merged stream to `path` through a temporary file that `commit()` moves into place
    /// ("-": stdout, written at once).
    public static func writeStream(_ merged: Merged, to path: String) throws -> PendingOutput {
        let file = try OutputFile(path: path, atomic: true)
        do {
            var text = KeypointStream.encode(merged.header) + "\n"
            for frame in merged.frames {
                text += KeypointStream.encode(frame) + "\n"
                if text.utf8.count > 1 << 16 { try file.write(text); text = "" }
            }
            try file.write(text)
        } catch {
            file.discard()
            throw error
        }
        return PendingOutput(file)
    }

    /// The annotated video of `part`, as its header names it.
    public static func videoFile(of part: Part) throws -> String {
        guard let recorded = part.segment.video else {
            throw PipelineError.badInput("\(part.path): its segment run wrote no annotated video (run --segment with --video to have one per part)")
        }
        return SegmentFiles.resolve(recorded, ofStream: part.path)
    }

    /// Whether some part's own track ids differ from the merged ones (its video shows the part's own).
    public static func renamesTracks(_ merged: Merged) -> Bool {
        merged.parts.contains { part in
            zip(part.frames.flatMap(\.persons), merged.frames[part.segment.start..<part.segment.end].flatMap(\.persons))
                .contains { $0.0.trackID != $0.1.trackID }
        }
    }
}

import Failures
import Foundation
import Keypoints

/// Joins the COCO keypoint results and PoseTrack18 files of one input's segments into the files a
/// single run writes, byte for byte. Each part's file is the one its keypoint stream's header names
/// (`run --segment` records them); it must hold one entry per person of that stream, with the same
/// keypoints, so a file left over from another run is refused. PoseTrack track ids are replaced by
/// the merged stream's (`SegmentMerge`), and the image list covers every frame of the input.
///
/// The files are read as `posewarper run` writes them: one entry a line.
public enum ResultFilesMerge {
    /// Which companion file.
    public enum Kind: String, Sendable {
        case coco = "COCO results"
        case posetrack = "PoseTrack18"

        func recorded(in segment: KeypointStreamHeader.Segment) -> String? {
            switch self {
            case .coco: return segment.coco
            case .posetrack: return segment.posetrack
            }
        }

        var flag: String { self == .coco ? "--coco" : "--posetrack" }
    }

    /// The companion file of `part`, as its header names it.
    public static func file(_ kind: Kind, of part: SegmentMerge.Part) throws -> String {
        guard let recorded = kind.recorded(in: part.segment) else {
            throw PipelineError.badInput("\(part.path): its segment run wrote no \(kind.rawValue) file (run --segment with \(kind.flag) "
                                         + "to have one per part)")
        }
        return SegmentFiles.resolve(recorded, ofStream: part.path)
    }

    /// Writes the merged file of `kind` for `merged` to `path` through a temporary file; the caller
    /// commits it (`OutputFile.commit`) once every output of the merge is ready.
    public static func write(_ kind: Kind, of merged: SegmentMerge.Merged, to path: String) throws -> PendingOutput {
        let total = merged.frames.count
        let file = try OutputFile(path: path, atomic: true)
        do {
            var count = 0
            var images: [String] = []
            var categories: String?
            try file.write(kind == .coco ? "[" : "{\"annotations\":[")
            for part in merged.parts {
                let source = try Self.file(kind, of: part)
                let lines = try read(source, part: part)
                let split = try sections(kind, lines: lines, source: source)
                let persons = part.frames.flatMap(\.persons)
                let mergedPersons = merged.frames[part.segment.start..<part.segment.end].flatMap(\.persons)
                guard split.entries.count == persons.count else {
                    throw PipelineError.badInput("\(source): holds \(split.entries.count) entries, but \(part.path) has \(persons.count) persons: "
                                                 + "the files are not of the same run (rerun that segment)")
                }
                var text = ""
                for (k, line) in split.entries.enumerated() {
                    let entry = try object(line, source: source)
                    let keypoints = (entry["keypoints"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue }
                    guard keypoints == persons[k].keypoints.flatMap({ $0 }) else {
                        throw PipelineError.badInput("\(source): entry \(k + 1)'s keypoints differ from person \(k + 1) of \(part.path): "
                                                     + "the files are not of the same run (rerun that segment)")
                    }
                    var out = line
                    if kind == .posetrack {
                        let local = persons[k].trackID ?? 0
                        let key = "\"track_id\":\(local),"
                        guard (entry["track_id"] as? NSNumber)?.intValue == local, let r = out.range(of: key) else {
                            throw PipelineError.badInput("\(source): entry \(k + 1)'s track id differs from \(part.path)'s: "
                                                         + "the files are not of the same run (rerun that segment)")
                        }
                        out.replaceSubrange(r, with: "\"track_id\":\(mergedPersons[k].trackID ?? 0),")
                    }
                    text += (count == 0 ? "\n" : ",\n") + out
                    count += 1
                    if text.utf8.count > 1 << 16 { try file.write(text); text = "" }
                }
                try file.write(text)
                if kind == .posetrack {
                    let frames = part.segment.end - part.segment.start
                    guard split.images.count == frames else {
                        throw PipelineError.badInput("\(source): lists \(split.images.count) images, but segment \(part.segment.start)..<"
                                                     + "\(part.segment.end) has \(frames) frames: the files are not of the same run")
                    }
                    for line in split.images {
                        guard let r = line.range(of: "\"nframes\":\(frames),") else {
                            throw PipelineError.badInput("\(source): an image entry does not give nframes \(frames): not a PoseTrack file "
                                                         + "of this segment as posewarper run writes it")
                        }
                        images.append(line.replacingCharacters(in: r, with: "\"nframes\":\(total),"))
                    }
                    if let categories, categories != split.categories {
                        throw PipelineError.badInput("\(source): its categories (keypoint names, skeleton) differ from the first part's")
                    }
                    categories = split.categories
                }
            }
            if kind == .coco {
                try file.write("\n]\n")
            } else {
                try file.write("\n],\"images\":[")
                var text = ""
                for (i, line) in images.enumerated() {
                    text += (i == 0 ? "\n" : ",\n") + line
                    if text.utf8.count > 1 << 16 { try file.write(text); text = "" }
                }
                try file.write(text + "\n" + (categories ?? "") + "\n")
            }
            return PendingOutput(file)
        } catch {
            file.discard()
            throw error
        }
    }

    /// The lines of a part's file.
    private static func read(_ source: String, part: SegmentMerge.Part) throws -> [Substring] {
        let text: String
        do { text = try InputFile.text(source) } catch {
            throw PipelineError.badInput("\(source) (named by \(part.path)): cannot read it: \(error.reason)")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// A file's entries (without the separating commas), images and categories line.
    private static func sections(_ kind: Kind, lines: [Substring], source: String) throws
        -> (entries: [String], images: [String], categories: String) {
        func notOurs() -> PipelineError {
            .badInput("\(source): not a \(kind.rawValue) file as posewarper run writes it (one entry a line); merge reads the parts' own files")
        }
        var lines = lines
        while lines.last?.isEmpty == true { lines.removeLast() }
        func entry(_ s: Substring) -> String { String(s.hasSuffix(",") ? s.dropLast() : s) }
        switch kind {
        case .coco:
            guard lines.count >= 2, lines.first == "[", lines.last == "]" else { throw notOurs() }
            return (lines.dropFirst().dropLast().map(entry), [], "")
        case .posetrack:
            guard lines.count >= 3, lines.first == "{\"annotations\":[", let imagesAt = lines.firstIndex(of: "],\"images\":["),
                  let last = lines.last, last.hasPrefix("],\"categories\":[") else { throw notOurs() }
            return (lines[1..<imagesAt].map(entry), lines[(imagesAt + 1)..<(lines.count - 1)].map(entry), String(last))
        }
    }

    private static func object(_ line: String, source: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw PipelineError.badInput("\(source): an entry is not a JSON object: \(line.prefix(80))")
        }
        return object
    }
}

/// A merged file written under a temporary name, moved into place by `commit()` once every output
/// of the merge is complete (or removed by `discard()`).
public final class PendingOutput {
    private let file: OutputFile
    init(_ file: OutputFile) { self.file = file }
    public func commit() throws { try file.commit() }
    public func discard() { file.discard() }
}

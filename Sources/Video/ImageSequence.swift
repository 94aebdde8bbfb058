import Foundation

/// Resolves an image folder or a printf pattern (`frames/%06d.jpg`) to its files in frame order.
enum ImageSequence {
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp", "ppm", "pgm", "pnm", "gif"]

    /// Whether `source` looks like a printf pattern (`%d`, `%06d`) rather than a literal file name.
    static func isPattern(_ source: String) -> Bool {
        source.range(of: #"%0?[0-9]*d"#, options: .regularExpression) != nil
    }

    /// Image files of a folder, ordered by the last run of digits in their name (PoseTrack's
    /// `000000.jpg …`, but also `frame_2.png` before `frame_10.png`); ties and digit-less names by name.
    static func files(inFolder folder: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw VideoError.notMedia(folder, reason: "cannot list the folder")
        }
        let images = names.filter { !$0.hasPrefix(".") && imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
        guard !images.isEmpty else { throw VideoError.emptySequence(folder) }
        return sortedNumerically(images).map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Files matching a printf pattern in its folder, in increasing number order (gaps allowed).
    static func files(matching pattern: String) throws -> [String] {
        let folder = (pattern as NSString).deletingLastPathComponent
        let namePattern = (pattern as NSString).lastPathComponent
        let directory = folder.isEmpty ? "." : folder
        guard let regex = try? NSRegularExpression(pattern: "^" + regexSource(namePattern) + "$") else {
            throw VideoError.notMedia(pattern, reason: "cannot understand the file-name pattern")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var numbered: [(Int, String)] = []
        for name in names {
            let range = NSRange(name.startIndex..., in: name)
            guard let m = regex.firstMatch(in: name, range: range), let r = Range(m.range(at: 1), in: name),
                  let n = Int(name[r]) else { continue }
            // The number must print back to the same name (so %03d does not match "0001.jpg").
            if printf(namePattern, n) == name { numbered.append((n, name)) }
        }
        guard !numbered.isEmpty else { throw VideoError.emptySequence(pattern) }
        return numbered.sorted { $0.0 < $1.0 }.map { folder.isEmpty ? $0.1 : (folder as NSString).appendingPathComponent($0.1) }
    }

    static func sortedNumerically(_ names: [String]) -> [String] {
        func key(_ name: String) -> Int? {
            let stem = (name as NSString).deletingPathExtension
            guard let r = stem.range(of: #"[0-9]+(?=[^0-9]*$)"#, options: .regularExpression) else { return nil }
            return Int(stem[r].prefix(18))
        }
        return names.sorted { a, b in
            switch (key(a), key(b)) {
            case let (x?, y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a < b
            }
        }
    }

    /// The pattern's single integer conversion replaced by a capture group; everything else literal.
    private static func regexSource(_ pattern: String) -> String {
        var out = ""
        var i = pattern.startIndex
        var captured = false
        while i < pattern.endIndex {
            let c = pattern[i]
            if c == "%" {
                let rest = pattern[pattern.index(after: i)...]
                if rest.hasPrefix("%") { out += "%"; i = pattern.index(i, offsetBy: 2); continue }
                if !captured, let r = rest.range(of: #"^0?[0-9]*d"#, options: .regularExpression) {
                    out += "([0-9]+)"
                    captured = true
                    i = r.upperBound
                    continue
                }
            }
            out += NSRegularExpression.escapedPattern(for: String(c))
            i = pattern.index(after: i)
        }
        return out
    }

    /// `pattern` with its integer conversion formatted as C's printf would.
    static func printf(_ pattern: String, _ n: Int) -> String {
        guard let r = pattern.range(of: #"%0?[0-9]*d"#, options: .regularExpression) else { return pattern }
        let spec = pattern[r].dropFirst().dropLast()
        let zero = spec.hasPrefix("0")
        let width = Int(spec) ?? 0
        var digits = String(n)
        if digits.count < width { digits = String(repeating: zero ? "0" : " ", count: width - digits.count) + digits }
        return (pattern[..<r.lowerBound] + digits + pattern[r.upperBound...]).replacingOccurrences(of: "%%", with: "%")
    }
}

/// The files an image folder or printf pattern decodes as, in frame order; nil for any other source
/// (so callers can map frames to image names exactly as the reader orders them).
public func imageSequenceFiles(_ source: String) -> [String]? {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue {
        return try? ImageSequence.files(inFolder: source)
    }
    if ImageSequence.isPattern(source), !FileManager.default.fileExists(atPath: source) {
        return try? ImageSequence.files(matching: source)
    }
    return nil
}

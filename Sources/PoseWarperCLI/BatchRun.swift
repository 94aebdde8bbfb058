import ArgumentParser
import Failures
import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// The inputs of a batch: arguments (files, folders of videos, globs) and `--inputs` list files,
/// expanded in order.
enum BatchInputs {
    /// Extensions taken from a folder of videos.
    static let videoExtensions: Set<String> = ["mp4", "m4v", "mov", "mkv", "avi", "webm", "mpg", "mpeg", "ts", "mts", "flv", "wmv"]

    /// A pattern for posewarper to expand: wildcards, not an existing file, not a URL (whose `?` starts a query).
    static func isGlob(_ s: String) -> Bool {
        s.contains { "*?[".contains($0) } && !s.contains("://") && !FileManager.default.fileExists(atPath: s)
    }

    /// The videos directly in `folder`, sorted by name; empty for an image folder (a single input).
    static func videos(in folder: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { !$0.hasPrefix(".") && videoExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    /// Every input, in order. A path that does not exist stays in the list (it fails in its turn);
    /// a glob that matches nothing or an unreadable list file is an error.
    static func expand(_ arguments: [String], list: String?) throws -> [String] {
        var inputs: [String] = []
        func add(_ item: String) throws {
            if isGlob(item) {
                var g = glob_t()
                defer { globfree(&g) }
                guard glob(item, 0, nil, &g) == 0, g.gl_pathc > 0 else {
                    throw PipelineError.badInput("\(item): no file matches this pattern")
                }
                for i in 0..<Int(g.gl_pathc) {
                    if let p = g.gl_pathv[i] { inputs.append(String(cString: p)) }
                }
            } else {
                let found = videos(in: item)
                inputs += found.isEmpty ? [item] : found
            }
        }
        for item in arguments { try add(item) }
        if let list {
            let text: String
            do { text = try InputFile.text(list) } catch { throw PipelineError.badInput("\(list): cannot read the input list: \(error.reason)") }
            for line in text.split(whereSeparator: \.isNewline) {
                let item = line.trimmingCharacters(in: .whitespaces)
                if item.isEmpty || item.hasPrefix("#") { continue }
                try add(item)
            }
            if inputs.isEmpty { throw PipelineError.badInput("\(list): the input list names no input") }
        }
        return inputs
    }
}

/// Output names from templates: `{stem}` (the input's name without folder and extension), `{name}`
/// (with its extension), `{index}` (its 0-based position in the batch), `{segment}` (the segment
/// number with `--segment`).
enum OutputTemplate {
    static let placeholders = ["{stem}", "{name}", "{index}", "{segment}"]
    /// Placeholders that tell the inputs of a batch apart.
    static let perInput = ["{stem}", "{name}", "{index}"]

    static func isTemplate(_ path: String) -> Bool { placeholders.contains { path.contains($0) } }

    static func expand(_ template: String, input: String, index: Int, segment: FrameSegment?) -> String {
        var name = (input as NSString).lastPathComponent
        if name.isEmpty || input.hasSuffix("/") { name = ((input as NSString).standardizingPath as NSString).lastPathComponent }
        let stem = (name as NSString).deletingPathExtension
        return template.replacingOccurrences(of: "{stem}", with: stem).replacingOccurrences(of: "{name}", with: name)
            .replacingOccurrences(of: "{index}", with: String(index))
            .replacingOccurrences(of: "{segment}", with: segment.map { String($0.index) } ?? "")
    }
}

extension RunCommand {
    /// Output flags and their paths as given.
    var outputFlags: [(flag: String, path: String)] {
        [("--keypoints", keypoints), ("--coco", coco), ("--posetrack", posetrack), ("--video", video)].compactMap { f in f.1.map { (f.0, $0) } }
    }

    /// More than one input, a folder of videos, a glob, an input list, a segment or output templates:
    /// the batch path (one model, one line per input, a summary).
    var isBatch: Bool {
        inputArguments.count != 1 || inputList != nil || segment != nil || outputFlags.contains { OutputTemplate.isTemplate($0.path) }
            || BatchInputs.isGlob(input) || !BatchInputs.videos(in: input).isEmpty
    }

    func validateBatch() throws {
        if inputArguments.isEmpty && inputList == nil { throw ValidationError("no input: give INPUT (one or more) or --inputs FILE") }
        if let segment {
            do { _ = try FrameSegment.parse(segment) } catch { throw ValidationError("\(error)") }
            if start != nil || end != nil { throw ValidationError("--segment and --start/--end exclude each other") }
            if keypoints == nil {
                throw ValidationError("--segment: posewarper merge joins the parts through their keypoint streams; add --keypoints "
                                      + "(e.g. 'out/{stem}-{segment}.jsonl')")
            }
        }
    }
}

/// `posewarper run` over many inputs: the model is loaded once; every output of every input is
/// checked before any work (templates that collide, outputs that would replace an input); each input
/// gets a line on stderr and a failed input does not stop the others. Exit code: 0 when every input
/// was done, 2 when an output could not be written or something failed inside (worth a retry), else
/// 1 when an input was bad (a retry will not help); 130/143 when stopped by a signal.
enum BatchRun {
    static func execute(_ options: RunCommand) -> Int32 {
        let signals = StopSignals.shared
        let job: PoseJob
        var detector: DetectorPersons? = nil
        let inputs: [String]
        let outputs: [[PoseJob.Output]]
        let segment: FrameSegment?
        do {
            inputs = try BatchInputs.expand(options.inputArguments, list: options.inputList)
            segment = try options.segment.map { try FrameSegment.parse($0) }
            if inputs.count > 1 {
                for (flag, path) in options.outputFlags where !OutputTemplate.perInput.contains(where: { path.contains($0) }) {
                    throw PipelineError.outputNotWritten("\(flag) \(path): \(inputs.count) inputs need an output template "
                                                         + "({stem}, {name} or {index}), e.g. out/{stem}.jsonl")
                }
            }
            outputs = inputs.enumerated().map { i, input in
                options.outputs.map { output in
                    func name(_ p: String) -> String { OutputTemplate.expand(p, input: input, index: i, segment: segment) }
                    switch output {
                    case let .keypoints(p): return .keypoints(name(p))
                    case let .coco(p): return .coco(name(p))
                    case let .posetrack(p): return .posetrack(name(p))
                    case let .video(p): return .video(name(p))
                    case .custom: return output
                    }
                }
            }
            let config = try options.loadConfig()
            // Every output of every input at once: two inputs whose templates give one name, or an
            // output that is another input, are refused before the model is loaded.
            var planned: [OutputPlan.Output] = []
            for (i, list) in outputs.enumerated() {
                for (output, (flag, _)) in zip(list, options.outputFlags) {
                    let label = inputs.count > 1 ? "\(flag) for \(inputs[i])" : flag
                    switch output {
                    case let .keypoints(p): planned.append(.init(flag: label, path: p, format: .keypointStream))
                    case let .coco(p): planned.append(.init(flag: label, path: p, format: .cocoResults))
                    case let .posetrack(p): planned.append(.init(flag: label, path: p, format: .poseTrack))
                    case let .video(p): planned.append(.init(flag: label, path: p, format: .video))
                    case .custom: break
                    }
                }
            }
            try OutputPlan.check(planned, inputs: inputs + options.modelInputs(config), schema: config.model.schema)
            detector = try options.loadDetector(config)
            job = try options.makeJob(config)
        } catch {
            RunCommand.fail("\(error)")
            return ExitStatus.code(for: error)
        }
        signals.onStop(command: "run") { job.cancel() }

        // With several inputs the n segments split the frames of the whole list (`FrameSegment.shares`):
        // every task gets about the same work; an input whose frames cannot be counted is reported
        // by one task only (`owns`). One input alone is split as before, every task reporting a problem.
        var shares: [Int: SegmentPart] = [:]
        var uncounted: [Int: Error] = [:]
        var offsets: [Int] = []
        var total = 0
        if let segment, inputs.count > 1 {
            var counts: [Int] = []
            for (i, input) in inputs.enumerated() {
                offsets.append(counts.reduce(0, +))
                do { counts.append(try job.frameCount(of: input)) } catch { counts.append(0); uncounted[i] = error }
            }
            total = counts.reduce(0, +)
            for (i, part) in segment.shares(of: counts) { shares[i] = part }
            if shares.isEmpty && !uncounted.keys.contains(where: { segment.owns(offset: offsets[$0], total: total) }) {
                RunCommand.fail("segment \(segment.label) is empty: the \(inputs.count) inputs have \(total) frames in all, fewer than "
                                + "\(segment.count) segments")
                return ExitStatus.badInput
            }
        }

        var done = 0, bad = 0, failed = 0, handled = 0
        let started = ContinuousClock.now
        for (i, input) in inputs.enumerated() {
            let tag = inputs.count > 1 ? "[\(i + 1)/\(inputs.count)] " : ""
            var part = ""
            if let segment, inputs.count > 1 {
                if let error = uncounted[i] {
                    guard segment.owns(offset: offsets[i], total: total) else { continue }
                    handled += 1
                    RunCommand.fail("\(tag)\(input): \(error)")
                    bad += 1
                    continue
                }
                guard let share = shares[i] else { continue }
                part = " segment \(segment.label) (frames \(share.frames.lowerBound)..<\(share.frames.upperBound) of \(share.inputFrames))"
            } else if let segment {
                part = " segment \(segment.label)"
            }
            handled += 1
            do {
                let share = try segment.map { s in try shares[i] ?? job.part(of: s, in: input) }
                let summary = try job.run(input: input, persons: options.persons(detector: detector), outputs: outputs[i], start: options.start,
                                          end: options.end, segment: share)
                if let reason = summary.decodeStopReason { RunCommand.fail("warning: \(input): \(reason)") }
                if !summary.complete {
                    if !summary.notWritten.isEmpty {
                        RunCommand.fail("\(tag)\(input)\(part): \(summary.notWritten.joined(separator: ", ")) not written: the run was stopped "
                                        + "after \(summary.frames) frames")
                    }
                    if summary.outputClosed { done += 1; continue }
                    break
                }
                done += 1
                if !options.quiet {
                    let written = outputs[i].compactMap { o -> String? in
                        switch o {
                        case let .keypoints(p): return p == "-" ? "stdout" : p
                        case let .coco(p), let .posetrack(p), let .video(p): return p
                        case .custom: return nil
                        }
                    }.joined(separator: ", ")
                    RunCommand.fail("\(tag)\(input)\(part): \(summary.frames) frames, \(summary.persons) persons in "
                                    + String(format: "%.1f", summary.seconds) + " s → \(written)")
                }
            } catch {
                RunCommand.fail("\(tag)\(input)\(part): \(error)")
                if ExitStatus.code(for: error) == ExitStatus.badInput { bad += 1 } else { failed += 1 }
            }
        }
        if let code = signals.exitCode {
            RunCommand.fail("stopped: \(done) of \(inputs.count) inputs done")
            return code
        }
        if !options.quiet || bad + failed > 0, inputs.count > 1 {
            let seconds = (ContinuousClock.now - started).components.seconds
            let which = segment.map { "segment \($0.label): \(handled) of " } ?? ""
            RunCommand.fail("\(which)\(inputs.count) inputs: \(done) done, \(bad) bad input, \(failed) failed (output or internal) in \(seconds) s")
        }
        return failed > 0 ? ExitStatus.failed : bad > 0 ? ExitStatus.badInput : ExitStatus.ok
    }
}

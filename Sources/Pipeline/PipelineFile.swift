import Engine
import Failures
import Foundation
import Keypoints
import Video
import Yams

/// Reads pipeline files (`Pipelines/*.yml`): every key is known, every value checked, and every
/// problem reported as "file:line: reason" from the YAML node's position.
public enum PipelineFile {
    /// Reads and validates a pipeline file; relative paths inside it resolve against its folder.
    public static func load(_ path: String) throws -> PipelineConfig {
        let text: String
        do { text = try InputFile.text(path) } catch {
            throw PipelineError.badInput("\(path): cannot read pipeline file: \(error.reason)")
        }
        return try parse(text, path: path)
    }

    /// Parses pipeline YAML; `path` names the file in errors and anchors relative paths.
    public static func parse(_ text: String, path: String) throws -> PipelineConfig {
        let top = try Section(compose(text, path: path), name: "pipeline file", file: path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path

        // Unset keys take mmpose's test-time defaults.
        var config = PipelineConfig.defaults
        config.path = path

        // model
        let model = try top.section("model", required: true)!
        if let node = model["weights"], node.null == nil {
            config.model.weights = resolve(try model.string("weights", node), against: folder)
        }
        if let node = model["schema"] {
            let name = try model.string("schema", node)
            guard let schema = KeypointSchema.named(name) else {
                throw model.error(node, "unknown keypoint schema '\(name)' (known: \(KeypointSchema.all.map(\.name).joined(separator: ", ")))")
            }
            config.model.schema = schema
        } else { throw model.error(nil, "model.schema is required (coco17 or posetrack18)") }
        guard let inputNode = model["input_size"] else { throw model.error(nil, "model.input_size is required ([width, height])") }
        let input = try model.ints("input_size", inputNode, count: 2)
        guard input.allSatisfy({ $0 > 0 && $0 % 32 == 0 && $0 <= maxInputSide }) else {
            throw model.error(inputNode, "model.input_size must be [width, height], multiples of 32 within 32…\(maxInputSide) (got \(input))")
        }
        (config.model.inputWidth, config.model.inputHeight) = (input[0], input[1])
        (config.model.heatmapWidth, config.model.heatmapHeight) = (input[0] / 4, input[1] / 4)
        if let node = model["heatmap_size"] {
            let size = try model.ints("heatmap_size", node, count: 2)
            guard size[0] == input[0] / 4, size[1] == input[1] / 4 else {
                throw model.error(node, "model.heatmap_size must be input_size / 4 for HRNet (expected [\(input[0] / 4), \(input[1] / 4)], got \(size))")
            }
        }
        if let node = model["mean"] { config.model.mean = try model.floats("mean", node, count: 3) }
        if let node = model["std"] {
            config.model.std = try model.floats("std", node, count: 3)
            guard config.model.std.allSatisfy({ $0 > 0 }) else { throw model.error(node, "model.std values must be positive") }
        }
        if let node = model["flip_test"] { config.model.flipTest = try model.bool("flip_test", node) }
        if let node = model["shift_heatmap"] { config.model.shiftHeatmap = try model.bool("shift_heatmap", node) }
        if let node = model["post_process"] {
            let name = try model.string("post_process", node)
            guard let p = PipelineConfig.PostProcess(rawValue: name), p != .none else {
                throw model.error(node, "model.post_process must be one of default, unbiased (got '\(name)')")
            }
            config.model.postProcess = p
        }
        if let node = model["modulate_kernel"] {
            let k = try model.int("modulate_kernel", node)
            guard k > 0, k % 2 == 1, k < 100 else { throw model.error(node, "model.modulate_kernel must be an odd number within 1…99 (got \(k))") }
            config.model.modulateKernel = k
        }
        if let node = model["sigma"] {
            let sigma = try model.double("sigma", node)
            guard sigma > 0, sigma <= 64 else { throw model.error(node, "model.sigma must be a positive number up to 64 (got \(sigma))") }
            config.model.sigma = sigma
        }
        if let node = model["precision"] {
            let name = try model.string("precision", node)
            guard let precision = Precision(rawValue: name) else {
                throw model.error(node, "model.precision must be one of \(Precision.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(name)')")
            }
            config.model.precision = precision
        }
        try model.rejectUnknownKeys()

        // temporal (absent = single-frame model)
        if let temporal = try top.section("temporal") {
            guard let offNode = temporal["frame_offsets"] else { throw temporal.error(nil, "temporal.frame_offsets is required") }
            let offsets = try temporal.ints("frame_offsets", offNode, count: nil)
            guard offsets.first == 0, Set(offsets).count == offsets.count else {
                throw temporal.error(offNode, "temporal.frame_offsets must start with 0 (the current frame) and not repeat (got \(offsets))")
            }
            guard offsets.allSatisfy({ (-16...16).contains($0) }) else {
                throw temporal.error(offNode, "temporal.frame_offsets must lie within ±16 frames (got \(offsets))")
            }
            guard let wNode = temporal["frame_weights"] else { throw temporal.error(nil, "temporal.frame_weights is required") }
            let weights = try temporal.floats("frame_weights", wNode, count: offsets.count)
            guard weights.allSatisfy({ $0 >= 0 }), weights.reduce(0, +) > 0 else {
                throw temporal.error(wNode, "temporal.frame_weights must be non-negative with a positive sum")
            }
            config.temporal.frameOffsets = offsets
            config.temporal.frameWeights = weights
            if let node = temporal["dilations"] {
                let d = try temporal.ints("dilations", node, count: nil)
                guard !d.isEmpty, d.allSatisfy({ (1...256).contains($0) }) else {
                    throw temporal.error(node, "temporal.dilations must be integers within 1…256")
                }
                config.temporal.dilations = d
            }
            try temporal.rejectUnknownKeys()
        }

        // persons
        if let persons = try top.section("persons") {
            if let node = persons["source"] {
                let name = try persons.string("source", node)
                guard let kind = PipelineConfig.PersonSourceKind(rawValue: name) else {
                    throw persons.error(node, "persons.source must be one of boxes_file, whole_frame, detector (got '\(name)')")
                }
                config.persons.source = kind
            }
            if let node = persons["boxes_file"], node.null == nil {
                config.persons.boxesFile = resolve(try persons.string("boxes_file", node), against: folder)
            }
            if let node = persons["score_threshold"] {
                config.persons.scoreThreshold = try persons.fraction("score_threshold", node)
            }
            if let node = persons["nms_threshold"] {
                if node.null != nil { config.persons.nmsThreshold = nil } else {
                    let t = try persons.fraction("nms_threshold", node)
                    guard t > 0 else { throw persons.error(node, "persons.nms_threshold must be in (0, 1] or null") }
                    config.persons.nmsThreshold = t
                }
            }
            if let node = persons["bbox_padding"] {
                let p = try persons.double("bbox_padding", node)
                guard p > 0, p <= 10 else { throw persons.error(node, "persons.bbox_padding must be in (0, 10] (got \(p))") }
                config.persons.bboxPadding = p
            }
            if let detector = try persons.section("detector") {
                config.persons.detector = try DetectorSection.parse(detector, folder: folder)
            }
            try persons.rejectUnknownKeys()
        }

        if let tracking = try top.section("tracking") {
            if let node = tracking["method"] {
                let name = try tracking.string("method", node)
                guard let m = PipelineConfig.TrackingMethod(rawValue: name) else {
                    throw tracking.error(node, "tracking.method must be one of iou, oks, none (got '\(name)')")
                }
                config.tracking.method = m
            }
            if let node = tracking["threshold"] { config.tracking.threshold = try tracking.fraction("threshold", node) }
            try tracking.rejectUnknownKeys()
        }

        if let smoothing = try top.section("smoothing") {
            var method: SmoothingMethod?
            var methodNode: Node?
            if let node = smoothing["method"] {
                let name = try smoothing.string("method", node)
                if name != "none" {
                    guard let m = SmoothingMethod.named(name) else {
                        throw smoothing.error(node, "smoothing.method must be one of none, \(SmoothingMethod.names.joined(separator: ", ")) (got '\(name)')")
                    }
                    method = m
                }
                methodNode = node
            }
            // Each parameter belongs to its methods; a parameter of another method is a mistake.
            let owners: [(key: String, methods: [String])] = [
                ("min_cutoff", ["one_euro"]), ("beta", ["one_euro"]), ("d_cutoff", ["one_euro"]),
                ("window", ["gaussian", "savitzky_golay"]), ("sigma", ["gaussian"]), ("polyorder", ["savitzky_golay"]),
            ]
            for (key, methods) in owners {
                if let node = smoothing[key], !methods.contains(method?.name ?? "none") {
                    throw smoothing.error(node, "smoothing.\(key) is a parameter of \(methods.joined(separator: " and ")), but smoothing.method is \(method?.name ?? "none")")
                }
            }
            func double(_ key: String, _ fallback: Double) throws -> Double { try smoothing[key].map { try smoothing.double(key, $0) } ?? fallback }
            func int(_ key: String, _ fallback: Int) throws -> Int { try smoothing[key].map { try smoothing.int(key, $0) } ?? fallback }
            switch method {
            case let .oneEuro(minCutoff, beta, derivativeCutoff):
                method = .oneEuro(minCutoff: try double("min_cutoff", minCutoff), beta: try double("beta", beta),
                                  derivativeCutoff: try double("d_cutoff", derivativeCutoff))
            case let .gaussian(window, sigma):
                method = .gaussian(window: try int("window", window), sigma: try double("sigma", sigma))
            case let .savitzkyGolay(window, polyorder):
                method = .savitzkyGolay(window: try int("window", window), polyorder: try int("polyorder", polyorder))
            case nil:
                break
            }
            if let method, let problem = method.problem, let node = methodNode { throw smoothing.error(node, "smoothing: \(problem)") }
            config.smoothing.method = method
            if let node = smoothing["score_threshold"] { config.smoothing.scoreThreshold = try smoothing.fraction("score_threshold", node) }
            try smoothing.rejectUnknownKeys()
        }

        if let output = try top.section("output") {
            if let node = output["draw_threshold"] { config.output.drawThreshold = try output.fraction("draw_threshold", node) }
            if let node = output["rescore_threshold"] { config.output.rescoreThreshold = try output.fraction("rescore_threshold", node) }
            if let node = output["radius"] {
                let r = try output.int("radius", node)
                guard (0...64).contains(r) else { throw output.error(node, "output.radius must be 0…64 (got \(r))") }
                config.output.radius = r
            }
            if let node = output["thickness"] {
                let t = try output.int("thickness", node)
                guard (1...32).contains(t) else { throw output.error(node, "output.thickness must be 1…32 (got \(t))") }
                config.output.thickness = t
            }
            if let node = output["draw_boxes"] { config.output.drawBoxes = try output.bool("draw_boxes", node) }
            if let node = output["label"] {
                let name = try output.string("label", node)
                guard let l = RenderStyle.Label(rawValue: name.replacingOccurrences(of: "_", with: "-")) else {
                    throw output.error(node, "output.label must be one of id, id_score, none (got '\(name)')")
                }
                config.output.label = l
            }
            if let node = output["color_by"] {
                let name = try output.string("color_by", node)
                guard let c = RenderStyle.ColorBy(rawValue: name) else {
                    throw output.error(node, "output.color_by must be one of part, track (got '\(name)')")
                }
                config.output.colorBy = c
            }
            if let node = output["trails"] {
                let n = try output.int("trails", node)
                guard (0...300).contains(n) else { throw output.error(node, "output.trails must be 0…300 frames (got \(n))") }
                config.output.trails = n
            }
            if let node = output["show_low"] { config.output.showLow = try output.bool("show_low", node) }
            if let node = output["font"] { config.output.font = resolve(try output.string("font", node), against: folder) }
            try output.rejectUnknownKeys()
        }
        try top.rejectUnknownKeys()
        return config
    }

    /// The largest crop side a pipeline file may ask for (HRNet configs use at most 384).
    static let maxInputSide = 2048
    /// Collections nested deeper than this are refused before Yams builds its tree (recursively):
    /// pipeline files nest three levels; a hostile file must not exhaust the stack.
    static let maxNesting = 64

    /// The file's YAML tree, after its nesting depth is checked; "file: not valid YAML: …" otherwise.
    static func compose(_ text: String, path: String) throws -> Node {
        if let line = YAMLNesting.firstLine(deeperThan: maxNesting, in: text) {
            throw PipelineError.at(path, line: line, "nested more than \(maxNesting) levels deep (a pipeline file nests 3)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw PipelineError.badInput("\(path): not valid YAML: \(yamlProblem(error))")
        } catch {
            throw PipelineError.badInput("\(path): not valid YAML: \(error)")
        }
        guard let root else { throw PipelineError.at(path, line: nil, "the file is empty") }
        return root
    }

    static func resolve(_ path: String, against folder: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return expanded.hasPrefix("/") ? expanded : URL(fileURLWithPath: folder).appendingPathComponent(expanded).standardized.path
    }

    static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return "line \(mark.line): \(problem)"
        default: return "\(error)"
        }
    }

    /// One YAML mapping being read: remembers which keys were consumed so leftovers are rejected.
    final class Section {
        let file: String
        let name: String
        let node: Node
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        var used = Set<String>()

        init(_ node: Node, name: String, file: String) throws {
            self.file = file
            self.name = name
            self.node = node
            guard let mapping = node.mapping else {
                throw PipelineError.at(file, line: node.mark?.line, "\(name) must be a mapping of keys to values")
            }
            var seen = Set<String>()
            for (k, v) in mapping {
                guard let key = k.string else { throw PipelineError.at(file, line: k.mark?.line, "keys in \(name) must be names") }
                guard seen.insert(key).inserted else {
                    throw PipelineError.at(file, line: k.mark?.line, "key '\(key)' appears twice in \(name)")
                }
                pairs.append((key, k, v))
            }
        }

        subscript(key: String) -> Node? {
            used.insert(key)
            return pairs.first { $0.key == key }?.value
        }

        func section(_ key: String, required: Bool = false) throws -> Section? {
            guard let value = self[key], value.null == nil else {
                if required { throw error(nil, "missing required section '\(key)'") }
                return nil
            }
            return try Section(value, name: key, file: file)
        }

        func error(_ at: Node?, _ reason: String) -> PipelineError {
            PipelineError.at(file, line: (at ?? node).mark?.line, reason)
        }

        func rejectUnknownKeys() throws {
            if let unknown = pairs.first(where: { !used.contains($0.key) }) {
                let known = used.sorted().joined(separator: ", ")
                throw PipelineError.at(file, line: unknown.keyNode.mark?.line,
                                       "unknown key '\(unknown.key)' in \(name) (known keys: \(known))")
            }
        }

        private func label(_ key: String) -> String { name == "pipeline file" ? key : "\(name).\(key)" }

        func string(_ key: String, _ node: Node) throws -> String {
            guard case let .scalar(s) = node, !s.string.isEmpty else { throw error(node, "\(label(key)) must be a text value") }
            return s.string
        }
        // Numbers are read here, not by Yams: its YAML 1.1 base-60 integers ("1:30") overflow with
        // a trap on long digit runs (found by Tools/fuzz). Pipeline files use decimal numbers.
        static func integer(_ node: Node) -> Int? {
            guard case let .scalar(s) = node else { return nil }
            return Int(s.string)
        }
        static func number(_ node: Node) -> Double? {
            guard case let .scalar(s) = node, let v = Int(s.string).map(Double.init) ?? Double(s.string), v.isFinite else { return nil }
            return v
        }

        func int(_ key: String, _ node: Node) throws -> Int {
            guard let v = Self.integer(node) else { throw error(node, "\(label(key)) must be an integer") }
            return v
        }
        func double(_ key: String, _ node: Node) throws -> Double {
            guard let v = Self.number(node) else { throw error(node, "\(label(key)) must be a number") }
            return v
        }
        func fraction(_ key: String, _ node: Node) throws -> Double {
            let v = try double(key, node)
            guard (0...1).contains(v) else { throw error(node, "\(label(key)) must be between 0 and 1 (got \(v))") }
            return v
        }
        func bool(_ key: String, _ node: Node) throws -> Bool {
            guard case .scalar = node, let v = node.bool else { throw error(node, "\(label(key)) must be true or false") }
            return v
        }
        func ints(_ key: String, _ node: Node, count: Int?) throws -> [Int] {
            guard case let .sequence(seq) = node else { throw error(node, "\(label(key)) must be a list of integers") }
            let values = try seq.map { item -> Int in
                guard let v = Self.integer(item) else { throw error(item, "\(label(key)) must be a list of integers") }
                return v
            }
            if let count, values.count != count { throw error(node, "\(label(key)) must have \(count) values (got \(values.count))") }
            if values.isEmpty { throw error(node, "\(label(key)) must not be empty") }
            return values
        }
        func floats(_ key: String, _ node: Node, count: Int?) throws -> [Float] {
            guard case let .sequence(seq) = node else { throw error(node, "\(label(key)) must be a list of numbers") }
            let values = try seq.map { item -> Float in
                guard let v = Self.number(item) else { throw error(item, "\(label(key)) must be a list of numbers") }
                return Float(v)
            }
            if let count, values.count != count { throw error(node, "\(label(key)) must have \(count) values (got \(values.count))") }
            if values.isEmpty { throw error(node, "\(label(key)) must not be empty") }
            return values
        }
    }
}

import Failures
import Foundation
import Models
import Yams

/// The `persons.detector` section of a pipeline file: the detector's weights and the settings that
/// override its family's defaults (`DetectorSettings.defaults(for:)`), each checked on reading.
public struct DetectorSection: Sendable, Equatable {
    public var weights: String?
    public var inputSize: [Int]?
    public var channelOrder: DetectorSettings.ChannelOrder?
    public var mean: [Float]?
    public var std: [Float]?
    public var letterbox: DetectorSettings.Letterbox?
    public var padValue: Float?
    public var scaleRounding: DetectorSettings.ScaleRounding?
    public var scoreThreshold: Float?
    public var nmsThreshold: Float?
    public var maxDetections: Int?
    public var personClass: Int?
    public var expOnRegression: Bool?
    /// Run the network on every n-th output frame only; the frames between take their boxes from
    /// earlier keypoints (`DetectorStage`). nil = 1, every frame.
    public var everyNFrames: Int?
    /// The file the section came from, for errors.
    public var source = "command line"

    public init() {}

    /// The family defaults with this section's values applied; throws when they cannot run `model`.
    public func settings(for model: DetectorDescription) throws -> DetectorSettings {
        var s = DetectorSettings.defaults(for: model)
        if let v = inputSize { s.inputWidth = v[0]; s.inputHeight = v[1] }
        if let v = channelOrder { s.channelOrder = v }
        if let v = mean { s.mean = v }
        if let v = std { s.std = v }
        if let v = letterbox { s.letterbox = v }
        if let v = padValue { s.padValue = v }
        if let v = scaleRounding { s.scaleRounding = v }
        if let v = scoreThreshold { s.scoreThreshold = v }
        if let v = nmsThreshold { s.nmsThreshold = v }
        if let v = maxDetections { s.maxDetections = v }
        if let v = personClass { s.personClass = v }
        if let v = expOnRegression { s.expOnRegression = v }
        if let problem = s.problem(for: model) {
            throw PipelineError.badInput("\(source): persons.detector: \(problem) (\(model.title))")
        }
        return s
    }

    /// Reads `persons.detector` of a pipeline file (only that section; relative weights resolve
    /// against the file's folder).
    public static func load(pipeline path: String) throws -> DetectorSection {
        let text: String
        do { text = try InputFile.text(path) } catch {
            throw PipelineError.badInput("\(path): cannot read pipeline file: \(error.reason)")
        }
        let top = try PipelineFile.Section(PipelineFile.compose(text, path: path), name: "pipeline file", file: path)
        guard let persons = try top.section("persons"), let detector = try persons.section("detector") else {
            throw PipelineError.at(path, line: nil, "no persons.detector section")
        }
        return try parse(detector, folder: (path as NSString).deletingLastPathComponent)
    }

    static func parse(_ d: PipelineFile.Section, folder: String) throws -> DetectorSection {
        var out = DetectorSection()
        out.source = d.file
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws -> T? where T.RawValue == String {
            guard let node = d[key] else { return nil }
            let name = try d.string(key, node)
            guard let v = T(rawValue: name) else {
                throw d.error(node, "persons.detector.\(key) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(name)')")
            }
            return v
        }
        if let node = d["weights"], node.null == nil { out.weights = PipelineFile.resolve(try d.string("weights", node), against: folder) }
        if let node = d["input_size"] {
            let v = try d.ints("input_size", node, count: 2)
            guard v.allSatisfy({ $0 > 0 && $0 % 32 == 0 && $0 <= 4096 }) else {
                throw d.error(node, "persons.detector.input_size must be [width, height], multiples of 32 within 32…4096 (got \(v))")
            }
            out.inputSize = v
        }
        out.channelOrder = try choice("channel_order", DetectorSettings.ChannelOrder.self)
        if let node = d["mean"] { out.mean = try d.floats("mean", node, count: 3) }
        if let node = d["std"] {
            let v = try d.floats("std", node, count: 3)
            guard v.allSatisfy({ $0 > 0 }) else { throw d.error(node, "persons.detector.std must be positive") }
            out.std = v
        }
        out.letterbox = try choice("letterbox", DetectorSettings.Letterbox.self)
        if let node = d["pad_value"] {
            let v = try d.double("pad_value", node)
            guard (0...255).contains(v) else { throw d.error(node, "persons.detector.pad_value must be within 0…255 (got \(v))") }
            out.padValue = Float(v)
        }
        if let node = d["resize"] {
            let name = try d.string("resize", node)
            guard name == "bilinear" else {
                throw d.error(node, "persons.detector.resize: only 'bilinear' (OpenCV INTER_LINEAR) is implemented (got '\(name)')")
            }
        }
        out.scaleRounding = try choice("scale_rounding", DetectorSettings.ScaleRounding.self)
        if let node = d["score_threshold"] { out.scoreThreshold = Float(try d.fraction("score_threshold", node)) }
        if let node = d["nms_threshold"] { out.nmsThreshold = Float(try d.fraction("nms_threshold", node)) }
        if let node = d["max_detections"] {
            let v = try d.int("max_detections", node)
            guard (1...10_000).contains(v) else { throw d.error(node, "persons.detector.max_detections must be within 1…10000") }
            out.maxDetections = v
        }
        if let node = d["person_class"] {
            let v = try d.int("person_class", node)
            guard v >= 0 else { throw d.error(node, "persons.detector.person_class must be 0 or more") }
            out.personClass = v
        }
        if let node = d["exp_on_regression"] { out.expOnRegression = try d.bool("exp_on_regression", node) }
        if let node = d["every_n_frames"] {
            let v = try d.int("every_n_frames", node)
            guard v >= 1 else { throw d.error(node, "persons.detector.every_n_frames must be at least 1 (got \(v))") }
            out.everyNFrames = v
        }
        try d.rejectUnknownKeys()
        return out
    }
}

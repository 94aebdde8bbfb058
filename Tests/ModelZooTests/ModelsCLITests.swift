import Foundation
import XCTest
@testable import ModelZoo

/// `--model NAME` and `posewarper models` as users run them: the built binary in a child process,
/// its cache in a scratch XDG_CACHE_HOME and the official host replaced by a loopback mirror.
final class ModelsCLITests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    /// The tiny random YOLOX (Megvii layout) of the detector tests, served as `yolox_nano.pth`.
    static let tinyYOLOX = root + "/Tests/DetectorTests/Fixtures/yolox_megvii.pth"

    static let binary: String? = {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent(), URL(fileURLWithPath: root + "/.build/release")] {
            let path = dir.appendingPathComponent("posewarper").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "posewarper-zoo-cli-\(ProcessInfo.processInfo.processIdentifier)-\(name.filter(\.isLetter))"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    /// Runs the binary with the cache in the scratch folder and `mirror` as POSEWARPER_MODEL_BASE_URL.
    func run(_ args: [String], mirror: URL? = nil) throws -> (code: Int32, stdout: String, stderr: String) {
        guard let binary = Self.binary else { throw XCTSkip("the posewarper executable is not built (make test builds it)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_CACHE_HOME"] = folder + "/cache"
        environment["POSEWARPER_MODEL_BASE_URL"] = mirror?.absoluteString
        p.environment = environment
        let out = Pipe(), err = Pipe()
        (p.standardOutput, p.standardError) = (out, err)
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func testModelsListsEveryNameWithWhereItIs() throws {
        let text = try run(["models"])
        XCTAssertEqual(text.code, 0, text.stderr)
        for entry in ModelRegistry.all { XCTAssertTrue(text.stdout.contains(entry.name + " "), entry.name) }
        XCTAssertTrue(text.stdout.contains(folder + "/cache/posewarper/hrnet_w32_coco_256x192-c78dce93_20200708.pth"), text.stdout)
        let json = try run(["models", "--json"])
        XCTAssertEqual(json.code, 0, json.stderr)
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(list.map { $0["name"] as? String }, ModelRegistry.all.map(\.name))
        let w32 = try XCTUnwrap(list.first { $0["name"] as? String == "hrnet-w32-coco-256x192" })
        XCTAssertEqual(w32["present"] as? Bool, false)
        XCTAssertEqual(w32["sha256_prefix"] as? String, "c78dce93")
        XCTAssertEqual(w32["pipeline"] as? String, Self.root + "/Pipelines/hrnet-w32-coco-256x192.yml")
        let bundled = try XCTUnwrap(list.first { $0["name"] as? String == "posewarper-hrnet-w16-synth-128x96" })
        XCTAssertEqual(bundled["present"] as? Bool, true)
        XCTAssertTrue(bundled["url"] is NSNull)
    }

    func testDetectModelDownloadsOnceThenRunsFromTheCache() throws {
        let server = try LoopbackServer()
        defer { server.stop() }
        let weights = try Data(contentsOf: URL(fileURLWithPath: Self.tinyYOLOX))
        server.serve("yolox_nano.pth", weights)
        let clip = Self.root + "/Samples/walker.mp4"
        let args = ["detect", clip, "--input-size", "96", "64", "--score-threshold", "0.3", "--threads", "1"]
        let first = try run(args + ["--model", "yolox-nano", "--boxes-out", folder + "/a.json"], mirror: server.baseURL)
        XCTAssertEqual(first.code, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("downloading yolox-nano from \(server.baseURL.absoluteString)/yolox_nano.pth"), first.stderr)
        let cached = folder + "/cache/posewarper/yolox_nano.pth"
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: cached)), weights)
        XCTAssertEqual(server.requests.count, 1)
        // Same boxes as the file given directly; the second run needs no server.
        let direct = try run(args + ["--weights", Self.tinyYOLOX, "--boxes-out", folder + "/b.json"])
        XCTAssertEqual(direct.code, 0, direct.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/a.json")), try Data(contentsOf: URL(fileURLWithPath: folder + "/b.json")))
        let again = try run(args + ["--model", "yolox-nano", "--boxes-out", folder + "/c.json"], mirror: URL(string: "http://127.0.0.1:9")!)
        XCTAssertEqual(again.code, 0, again.stderr)
        XCTAssertFalse(again.stderr.contains("downloading"), again.stderr)
        XCTAssertEqual(server.requests.count, 1)
    }

    func testCorruptMirrorFileIsRefusedWithExit2() throws {
        let server = try LoopbackServer()
        defer { server.stop() }
        let entry = ModelRegistry.named("rtmdet-nano-person")!
        server.serve(entry.fileName, Data("not the published checkpoint".utf8))
        let r = try run(["models", "--download", "rtmdet-nano-person"], mirror: server.baseURL)
        XCTAssertEqual(r.code, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("\(server.baseURL.absoluteString)/\(entry.fileName)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("05d8511e"), r.stderr)
        XCTAssertTrue(r.stderr.contains("refused and deleted"), r.stderr)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/cache/posewarper")) ?? []
        XCTAssertEqual(left.filter { !$0.hasSuffix(".lock") }, [], "nothing cached")
    }

    func testOfflineRunNamesTheURLAndThePath() throws {
        let r = try run(["run", Self.root + "/Samples/walker.mp4", "--model", "hrnet-w32-coco-256x192", "--whole-frame",
                         "--keypoints", folder + "/k.jsonl"], mirror: URL(string: "http://127.0.0.1:9/zoo")!)
        XCTAssertEqual(r.code, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("http://127.0.0.1:9/zoo/hrnet_w32_coco_256x192-c78dce93_20200708.pth"), r.stderr)
        XCTAssertTrue(r.stderr.contains("put it at \(folder)/cache/posewarper/hrnet_w32_coco_256x192-c78dce93_20200708.pth"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/k.jsonl"))
    }

    func testBundledModelRunsAsItsPipelineFileDoes() throws {
        let common = [Self.root + "/Samples/synth-demo.mp4", "--boxes", Self.root + "/Samples/synth-demo.boxes.json", "--end", "3",
                      "--threads", "1", "--quiet"]
        let named = try run(["run"] + common + ["--model", "posewarper-hrnet-w16-synth-128x96", "--keypoints", folder + "/a.jsonl"])
        XCTAssertEqual(named.code, 0, named.stderr)
        let file = try run(["run"] + common + ["--pipeline", Self.root + "/Models/posewarper-hrnet-w16-synth-128x96.yml",
                                               "--keypoints", folder + "/b.jsonl"])
        XCTAssertEqual(file.code, 0, file.stderr)
        let a = try String(contentsOfFile: folder + "/a.jsonl", encoding: .utf8)
        XCTAssertEqual(a.split(separator: "\n").count, 4, "header and 3 frames")
        XCTAssertEqual(a, try String(contentsOfFile: folder + "/b.jsonl", encoding: .utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/cache/posewarper"), "bundled models are not copied")
    }

    func testRunDetectorTakesADetectorsName() throws {
        let server = try LoopbackServer()
        defer { server.stop() }
        server.serve("yolox_nano.pth", try Data(contentsOf: URL(fileURLWithPath: Self.tinyYOLOX)))
        let common = ["run", Self.root + "/Samples/synth-demo.mp4", "--model", "hrnet-w16-synth-128x96", "--end", "2", "--threads", "1", "--quiet"]
        let named = try run(common + ["--detector", "yolox-nano", "--keypoints", folder + "/a.jsonl"], mirror: server.baseURL)
        XCTAssertEqual(named.code, 0, named.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/cache/posewarper/yolox_nano.pth"))
        let file = try run(common + ["--detector", Self.tinyYOLOX, "--keypoints", folder + "/b.jsonl"])
        XCTAssertEqual(file.code, 0, file.stderr)
        let a = try String(contentsOfFile: folder + "/a.jsonl", encoding: .utf8)
        XCTAssertEqual(a.split(separator: "\n").count, 3, "header and 2 frames")
        XCTAssertEqual(a, try String(contentsOfFile: folder + "/b.jsonl", encoding: .utf8))
    }

    func testPropagateModelWarpsAsItsPipelineFileDoes() throws {
        // The held-out clip's ground truth on frames 0 and 4 only: frames 1, 3 and 5 are propagated.
        var labels = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.root + "/Samples/synth-demo.gt.json"))) as? [String: Any])
        labels["annotations"] = (labels["annotations"] as! [[String: Any]]).filter { [0, 4].contains($0["image_id"] as! Int) }
        let sparse = folder + "/sparse.json"
        try JSONSerialization.data(withJSONObject: labels).write(to: URL(fileURLWithPath: sparse))
        let common = ["propagate", Self.root + "/Samples/synth-demo.mp4", "--labels", sparse, "--max-gap", "1", "--threads", "1", "--quiet"]
        let named = try run(common + ["--model", "posewarper-hrnet-w16-synth-128x96", "--out", folder + "/a.json"])
        XCTAssertEqual(named.code, 0, named.stderr)
        let file = try run(common + ["--pipeline", Self.root + "/Models/posewarper-hrnet-w16-synth-128x96.yml", "--out", folder + "/b.json"])
        XCTAssertEqual(file.code, 0, file.stderr)
        let a = try Data(contentsOf: URL(fileURLWithPath: folder + "/a.json"))
        XCTAssertEqual(a, try Data(contentsOf: URL(fileURLWithPath: folder + "/b.json")))
        let dense = try XCTUnwrap(JSONSerialization.jsonObject(with: a) as? [String: Any])
        let frames = Set((dense["annotations"] as! [[String: Any]]).map { $0["image_id"] as! Int })
        XCTAssertTrue(frames.isSuperset(of: [1, 3, 5]), "propagated frames: \(frames.sorted())")
    }

    func testModelExcludesPipelineAndWeightsAndMustExist() throws {
        let clip = Self.root + "/Samples/walker.mp4"
        let cases: [([String], String)] = [
            (["run", clip, "--model", "hrnet-w32-coco-256x192", "--weights", "w.pth", "--keypoints", "-"], "--model excludes"),
            (["run", clip, "--model", "no-such-model", "--keypoints", "-"], "no such model"),
            (["run", clip, "--model", "yolox-s", "--keypoints", "-"], "give a detector as --detector yolox-s"),
            (["detect", clip, "--model", "yolox-s", "--pipeline", "p.yml"], "--model excludes"),
            (["detect", clip, "--model", "hrnet-w32-coco-256x192"], "posewarper run --model hrnet-w32-coco-256x192"),
            (["models", "--download", "nope"], "no such model"),
            (["propagate", clip, "--labels", "l.json", "--out", "o.json", "--model", "hrnet-w32-coco-256x192"],
             "this takes posewarper-hrnet-w48-posetrack18-384x288, posewarper-hrnet-w16-synth-128x96"),
            (["propagate", clip, "--labels", "l.json", "--out", "o.json", "--model", "posewarper-hrnet-w16-synth-128x96", "--weights", "w.pth"],
             "--model excludes"),
        ]
        for (args, expected) in cases {
            let r = try run(args)
            XCTAssertEqual(r.code, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
    }
}

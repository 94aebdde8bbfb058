import Foundation
import Pipeline

/// Benchmark sections for the Pipeline module: the whole `posewarper run` job, stage by stage.
func pipelineBenchSections() -> [BenchSection] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var sections: [BenchSection] = [(
        name: "pipeline: tiny random PoseWarper (stage-2 settings, 256x192 crops), whole frame, Samples/walker.mp4 (320x240, 100 frames)",
        run: { try runPipelineBench(pipeline: root.appendingPathComponent("Samples/demo.yml").path, weights: nil,
                                    input: root.appendingPathComponent("Samples/walker.mp4").path, end: nil) }
    )]
    // A full-size random-weight W48 PoseWarper (the models helper's `make parity` writes one), when present.
    let w48 = ProcessInfo.processInfo.environment["POSEWARPER_W48"] ?? root.appendingPathComponent("parity/posewarper_w48_384x288.pth").path
    if FileManager.default.fileExists(atPath: w48) {
        sections.append((
            name: "pipeline: full-size W48 PoseWarper (random weights, \(w48)), whole frame, Samples/walker.mp4, 8 frames",
            run: { try runPipelineBench(pipeline: root.appendingPathComponent("Pipelines/posewarper-hrnet-w48-posetrack18-384x288.yml").path,
                                        weights: w48, input: root.appendingPathComponent("Samples/walker.mp4").path, end: 8) }
        ))
    }
    return sections
}

private func runPipelineBench(pipeline: String, weights: String?, input: String, end: Int?) throws {
    let job = try PoseJob(pipeline: try PipelineFile.load(pipeline), weights: weights)
    let out = NSTemporaryDirectory() + "posewarper-bench-\(ProcessInfo.processInfo.processIdentifier).mp4"
    defer { try? FileManager.default.removeItem(atPath: out) }
    let s = try job.run(input: input, persons: .wholeFrame, outputs: [.video(out)], end: end)
    let perPersonFrame = s.seconds / Double(max(1, s.persons))
    print(String(format: "  %d frames, %d person-frames in %.2f s: %.3f s per person-frame (%.2f fps); backbone crops computed %d, reused %d",
                 s.frames, s.persons, s.seconds, perPersonFrame, Double(s.frames) / s.seconds, s.cropsEncoded, s.cropsReused))
    for (stage, seconds) in s.stageSeconds.sorted(by: { $0.value > $1.value }) {
        print(String(format: "  %-18@ %8.3f s  %5.1f%% of wall time", stage as NSString, seconds, 100 * seconds / s.seconds))
    }
}

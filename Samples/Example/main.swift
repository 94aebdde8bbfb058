// posewarper-example: the library API in a few lines — run a pipeline over a video and print one
// line per frame as results arrive, while also writing the keypoint stream and an annotated video.
//
//     swift run -c release PoseWarperExample Samples/walker.mp4 Samples/demo.yml out/
import Foundation
import Pipeline

let args = CommandLine.arguments
guard args.count == 4 else {
    FileHandle.standardError.write(Data("usage: posewarper-example VIDEO PIPELINE.yml OUTPUT-FOLDER\n".utf8))
    exit(64)
}
let (video, pipelineFile, folder) = (args[1], args[2], args[3])

do {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let job = try PoseJob(pipeline: try PipelineFile.load(pipelineFile))   // weights from the pipeline file
    let summary = try job.run(input: video, persons: .wholeFrame, outputs: [
        .keypoints(folder + "/example.jsonl"),
        .video(folder + "/example.mp4"),
        .custom(CallbackOutput { result in
            let frame = result.keypoints
            let best = frame.persons.map(\.score).max() ?? 0
            print("frame \(frame.frame) t=\(frame.time)s: \(frame.persons.count) person(s), best pose score \(best)")
        }),
    ])
    print("\(summary.frames) frames in \(String(format: "%.1f", summary.seconds)) s → \(folder)/example.jsonl, \(folder)/example.mp4")
} catch {
    FileHandle.standardError.write(Data("posewarper-example: \(error)\n".utf8))
    exit(1)
}

// libFuzzer entry for the labels reader of `posewarper propagate` (COCO keypoints or PoseTrack18
// JSON): each input is written to a RAM file and read for a 40-frame video and for a 40-frame image
// folder; what is read is then propagated (copy and interpolate: no model needed) and encoded as
// the dense labels JSON and keypoint stream, as `propagate` does. Anything but success or a
// PipelineError (a trap, an ASan report, a hang past -timeout) is a finding; so is a document that
// cannot be encoded, or a label outside the video.
import Foundation
import Keypoints
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

private let scratchPath = "/dev/shm/labels-libfuzzer-\(getpid()).json"
private let frameCount = 40
private let frameNames = (0..<frameCount).map { String(format: "%06d.jpg", $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let file = fopen(scratchPath, "wb") else { return 0 }
    if size > 0 { fwrite(data, 1, size, file) }
    fclose(file)
    for names in [nil, frameNames] {
        do {
            let labels = try LabelsFile(path: scratchPath, frameCount: frameCount, frameNames: names)
            precondition(labels.labelledFrames.allSatisfy { (0..<frameCount).contains($0) }, "a labelled frame outside the video")
            precondition(labels.instances.keys.allSatisfy { labels.labelledFrames.contains($0) }, "instances of an unlabelled frame")
            let joints = labels.schema.keypoints.count
            precondition(labels.instances.values.joined().allSatisfy { $0.keypoints.count == joints && $0.keypoints.allSatisfy { $0.count == 3 } },
                         "keypoints per instance")
            let plan = PropagationPlan(labels, maxGap: 8)
            for method in [PropagationMethod.copy, .interpolate] {
                let propagated = LabelPropagation.run(plan, method: method, joints: joints)
                let dense = DenseLabels(labels: labels, propagated: propagated, frameNames: names)
                do {
                    _ = try JSONSerialization.data(withJSONObject: dense.document(), options: [.sortedKeys, .withoutEscapingSlashes])
                } catch {
                    preconditionFailure("the dense labels of a file that was read cannot be encoded: \(error)")
                }
                for frame in dense.keypointFrames(fps: 25) { _ = KeypointStream.encode(frame) }
            }
        } catch is PipelineError {
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
    }
    return 0
}

// SwiftPM links executables against `<Module>_main` rather than `main` (as CheckpointFuzz does).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("LabelsFileFuzz_main")
public func labelsFileFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &vector) { fuzzOneInput($0, $1) }
}

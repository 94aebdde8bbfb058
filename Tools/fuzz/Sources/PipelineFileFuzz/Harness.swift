// libFuzzer entry for the pipeline file reader (`--pipeline`, Pipelines/*.yml): each input is
// written to a RAM file and read as a whole pipeline file and for its persons.detector section
// alone. Anything but success or a PipelineError (a trap, an ASan report, a stack overflow, a hang
// past -timeout) is a finding; so is a config that breaks what the reader promises to check.
import Keypoints
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

private let scratchFolder: String = {
    let folder = "/dev/shm/pipeline-libfuzzer-\(getpid())"
    mkdir(folder, 0o700)
    return folder
}()
private let scratchPath = scratchFolder + "/pipeline.yml"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let file = fopen(scratchPath, "wb") else { return 0 }
    if size > 0 { fwrite(data, 1, size, file) }
    fclose(file)
    do {
        let c = try PipelineFile.load(scratchPath)
        let m = c.model
        precondition(m.inputWidth > 0 && m.inputHeight > 0 && m.inputWidth % 32 == 0 && m.inputHeight % 32 == 0, "input size")
        precondition(m.heatmapWidth * 4 == m.inputWidth && m.heatmapHeight * 4 == m.inputHeight, "heatmap size")
        precondition(m.mean.count == 3 && m.std.count == 3 && m.std.allSatisfy { $0 > 0 && $0.isFinite }, "normalisation")
        precondition(m.sigma > 0 && m.sigma.isFinite && m.modulateKernel > 0 && m.modulateKernel % 2 == 1, "decoding")
        let t = c.temporal
        precondition(t.frameOffsets.first == 0 && t.frameOffsets.count == t.frameWeights.count, "temporal window")
        precondition(c.lookBehind <= 16 && c.lookAhead <= 16, "window reach")
        precondition(t.frameWeights.reduce(0, +) > 0 && !t.dilations.isEmpty && t.dilations.allSatisfy { $0 > 0 }, "weights and dilations")
        precondition((0...1).contains(c.persons.scoreThreshold) && c.persons.bboxPadding > 0, "persons")
        precondition(c.smoothing.method?.problem == nil, "smoothing")
        precondition((0...300).contains(c.output.trails), "trails")
        _ = c.temporal.poseWarperOptions
    } catch is PipelineError {
    } catch {
        preconditionFailure("unexpected error type from PipelineFile.load: \(error)")
    }
    do {
        let d = try DetectorSection.load(pipeline: scratchPath)
        precondition((d.inputSize ?? [32, 32]).allSatisfy { $0 > 0 && $0 % 32 == 0 }, "detector input size")
        precondition((d.everyNFrames ?? 1) >= 1 && (d.maxDetections ?? 1) >= 1, "detector counts")
    } catch is PipelineError {
    } catch {
        preconditionFailure("unexpected error type from DetectorSection.load: \(error)")
    }
    return 0
}

// SwiftPM links executables against `<Module>_main` rather than `main` (as CheckpointFuzz does).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("PipelineFileFuzz_main")
public func pipelineFileFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &vector) { fuzzOneInput($0, $1) }
}

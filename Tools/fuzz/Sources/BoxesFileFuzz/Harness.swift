// libFuzzer entry for the person-boxes reader (`posewarper run --boxes`): each input is written to
// a RAM file and read as a boxes file, for a video input and for an image folder, with and without
// NMS. Anything but success or a PipelineError (a trap, an ASan report, a hang past -timeout) is a
// finding. The reader's three files are symlinked into the BoxesParsing target.
import BoxesParsing
#if canImport(Glibc)
import Glibc
#endif

private let scratchPath = "/dev/shm/boxes-libfuzzer-\(getpid()).json"
private let frameNames = (0..<8).map { "00000\($0).jpg" }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let file = fopen(scratchPath, "wb") else { return 0 }
    if size > 0 { fwrite(data, 1, size, file) }
    fclose(file)
    for (input, names, nms) in [("000001_mpii_test.mp4", nil, 0.5), ("frames", frameNames, nil)] as [(String, [String]?, Double?)] {
        do {
            let boxes = try BoxesFile(path: scratchPath, input: input, frameNames: names, scoreThreshold: 0.2, nmsThreshold: nms)
            precondition(boxes.boxes.keys.allSatisfy { $0 >= 0 }, "negative frame index")
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

@_cdecl("BoxesFileFuzz_main")
public func boxesFileFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &vector) { fuzzOneInput($0, $1) }
}

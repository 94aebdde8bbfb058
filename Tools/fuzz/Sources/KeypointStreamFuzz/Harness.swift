// libFuzzer entry for the keypoint stream reader (`posewarper render --keypoints`): each input is
// written to a RAM file and read as a JSON Lines stream. Anything but success or a
// KeypointStreamError (a trap, an ASan report, a hang past -timeout) is a finding.
import Keypoints
#if canImport(Glibc)
import Glibc
#endif

private let scratchPath = "/dev/shm/keypoint-stream-libfuzzer-\(getpid()).jsonl"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let file = fopen(scratchPath, "wb") else { return 0 }
    if size > 0 { fwrite(data, 1, size, file) }
    fclose(file)
    do {
        let stream = try KeypointStream.read(path: scratchPath)
        for frame in stream.frames {
            // What was read must encode and read back as the same frame.
            let line = KeypointStream.encode(frame)
            guard case let .frame(again)? = try? KeypointStream.decode(line: line) else {
                preconditionFailure("a frame read from the stream does not read back after encoding")
            }
            precondition(again.frame == frame.frame && again.persons.count == frame.persons.count, "round trip changed the frame")
        }
    } catch is KeypointStreamError {
    } catch {
        preconditionFailure("unexpected error type: \(error)")
    }
    return 0
}

// SwiftPM links executables against `<Module>_main` rather than `main`, so hand control to
// libFuzzer's driver from there (as CheckpointFuzz does).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("KeypointStreamFuzz_main")
public func keypointStreamFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &vector) { fuzzOneInput($0, $1) }
}

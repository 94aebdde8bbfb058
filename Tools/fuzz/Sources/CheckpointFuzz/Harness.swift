// libFuzzer entry: each input is written to a RAM file and loaded as a checkpoint; if it loads,
// every tensor is read. Anything but success or CheckpointError (a trap, an ASan report, a hang
// past -timeout, memory past -rss_limit_mb) is a finding.
import Checkpoints
#if canImport(Glibc)
import Glibc
#endif

private let scratchPath = "/dev/shm/checkpoint-libfuzzer-\(getpid()).bin"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let file = fopen(scratchPath, "wb") else { return 0 }
    if size > 0 { fwrite(data, 1, size, file) }
    fclose(file)
    do {
        let checkpoint = try Checkpoint.load(scratchPath)
        for entry in checkpoint.entries {
            let tensor = try checkpoint.tensor(entry.name)
            precondition(tensor.shape == entry.shape, "shape changed on read")
        }
        _ = checkpoint.meta?.jsonString()
    } catch is CheckpointError {
    } catch {
        fatalError("non-CheckpointError thrown: \(error)")
    }
    return 0
}

// SwiftPM links executables against `<Module>_main` rather than `main`, so hand control to
// libFuzzer's driver from there (libFuzzer's own main would otherwise be unreachable).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("CheckpointFuzz_main")
public func checkpointFuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var vector: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &vector) { fuzzOneInput($0, $1) }
}

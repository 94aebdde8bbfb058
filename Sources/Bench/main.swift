// `make bench`: each module's benchmark sections live in their own file in this folder.
import Engine
import Foundation

/// A named benchmark section; it prints its own table rows.
typealias BenchSection = (name: String, run: () throws -> Void)

/// Median wall time of `runs` calls after one warm-up call (first-touch allocations, lazy plans, caches).
func medianMilliseconds(runs: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    return times[times.count / 2]
}

let sections: [BenchSection] = engineBenchSections() + modelsBenchSections() + videoBenchSections() + pipelineBenchSections()
    + detectorBenchSections()

// Numbers are only comparable with the machine facts they were measured on.
let coretype = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; OpenBLAS kernels \(blasCoreName) (OPENBLAS_CORETYPE \(coretype))")

var failed = false
// `posewarper-bench WORD…` runs only the sections whose name contains one of the words.
let only = Array(CommandLine.arguments.dropFirst())
for section in sections where only.isEmpty || only.contains(where: { section.name.contains($0) }) {
    print("== \(section.name)")
    do { try section.run() } catch {
        FileHandle.standardError.write(Data("bench \(section.name): \(error)\n".utf8))
        failed = true
    }
}
exit(failed ? 1 : 0)

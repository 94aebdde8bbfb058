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

// `posewarper-bench [WORD …]` runs only the sections whose name contains one of the words (e.g. `models`).
let wanted = CommandLine.arguments.dropFirst().map { $0.lowercased() }
let sections: [BenchSection] = (engineBenchSections() + modelsBenchSections() + videoBenchSections() + pipelineBenchSections())
    .filter { section in wanted.isEmpty || wanted.contains { section.name.lowercased().contains($0) } }

// Numbers are only comparable with the machine facts they were measured on.
let coretype = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; OpenBLAS kernels \(blasCoreName) (OPENBLAS_CORETYPE \(coretype))")

var failed = false
for section in sections {
    print("== \(section.name)")
    do { try section.run() } catch {
        FileHandle.standardError.write(Data("bench \(section.name): \(error)\n".utf8))
        failed = true
    }
}
exit(failed ? 1 : 0)

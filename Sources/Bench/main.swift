// `make bench`: each module's benchmark sections live in their own file in this folder.
import Engine
import Foundation

/// A named benchmark section; it prints its own table rows.
typealias BenchSection = (name: String, run: () throws -> Void)

/// Median wall time of `runs` calls after one warm-up call (first-touch allocations, lazy plans, caches).
func medianMilliseconds(runs: Int, _ body: () -> Void) -> Double { medianTimes(runs: runs, body).wall }

/// CPU time of the whole process so far (all threads, user + system), in ms.
func cpuMilliseconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3
}

/// Median wall time and median process CPU time (all threads, user + system) of `runs` calls after one
/// warm-up call, in ms. On a shared machine the CPU time is the steadier measure of the work done.
func medianTimes(runs: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
    body()
    var walls: [Double] = [], cpus: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = cpuMilliseconds()
        body()
        walls.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        cpus.append(cpuMilliseconds() - cpuStart)
    }
    walls.sort(); cpus.sort()
    return (walls[walls.count / 2], cpus[cpus.count / 2])
}

MemoryReuse.enable()   // as the posewarper command does

// `posewarper-bench [WORD …]` runs only the sections whose name contains one of the words (e.g. `models`).
let wanted = CommandLine.arguments.dropFirst().map { $0.lowercased() }
let sections: [BenchSection] = (engineBenchSections() + modelsBenchSections() + layersBenchSections() + videoBenchSections() + pipelineBenchSections()
    + detectorBenchSections())
    .filter { section in wanted.isEmpty || wanted.contains { section.name.lowercased().contains($0) } }

// Numbers are only comparable with the machine facts they were measured on.
let coretype = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset"
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; \(cpuDescription)")
print("kernels: \(KernelTier.active.name) (supported: \(KernelTier.supported.map(\.name).joined(separator: ", ")))"
      + "; convolution GEMM \(convolutionGemmName); OpenBLAS kernels \(blasCoreName) (OPENBLAS_CORETYPE \(coretype))")

var failed = false
for section in sections {
    print("== \(section.name)")
    do { try section.run() } catch {
        FileHandle.standardError.write(Data("bench \(section.name): \(error)\n".utf8))
        failed = true
    }
}
exit(failed ? 1 : 0)

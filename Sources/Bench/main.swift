// `make bench`: each module's benchmark sections live in their own file in this folder.
import Engine
import Foundation

/// A named benchmark section; it prints its own table rows.
typealias BenchSection = (name: String, run: () throws -> Void)

let sections: [BenchSection] = engineBenchSections() + modelsBenchSections() + videoBenchSections() + pipelineBenchSections()

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

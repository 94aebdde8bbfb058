/// Benchmark sections for the Pipeline module (filled in when its work lands).
func pipelineBenchSections() -> [BenchSection] { [] }

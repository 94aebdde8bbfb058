/// Benchmark sections for the Engine module (filled in when its work lands).
func engineBenchSections() -> [BenchSection] { [] }

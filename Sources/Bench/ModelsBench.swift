/// Benchmark sections for the Models module (filled in when its work lands).
func modelsBenchSections() -> [BenchSection] { [] }

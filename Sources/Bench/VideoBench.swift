/// Benchmark sections for the Video module (filled in when its work lands).
func videoBenchSections() -> [BenchSection] { [] }

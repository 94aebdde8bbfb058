import Engine
import Foundation
import Models
import Tensors

/// Benchmark section for the person detectors: ms per forward (network only, one frame) of YOLOX-nano
/// 416, YOLOX-s 640, RTMDet-tiny 640 and RTMDet-m 640 with random weights, next to PyTorch's time for
/// the same forwards (Tools/reference/bench_detectors_torch.py, same thread count) when torch imports.
func detectorBenchSections() -> [BenchSection] {
    [(name: "detectors: YOLOX / RTMDet forwards vs PyTorch", run: runDetectorBench)]
}

private func torchDetectorMilliseconds(threads: Int, runs: Int) -> [String: Double]? {
    torchReferenceJSON(script: "bench_detectors_torch.py", threads: threads, runs: runs)?["rows"] as? [String: Double]
}

private func runDetectorBench() throws {
    let threads = EngineThreads.count
    let runs = 3
    let cases: [(key: String, family: DetectorDescription.Family, size: String, side: Int)] = [
        ("yolox_nano_416", .yolox, "nano", 416), ("yolox_s_640", .yolox, "s", 640),
        ("rtmdet_tiny_640", .rtmdet, "tiny", 640), ("rtmdet_m_640", .rtmdet, "m", 640),
    ]
    var state: UInt64 = 7
    var rows: [(String, Double)] = []
    for c in cases {
        let model = try DetectorModel(randomWeights: DetectorDescription.release(c.family, size: c.size)!)
        let x = Tensor(shape: [1, 3, c.side, c.side], storage: (0..<(3 * c.side * c.side)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        })
        rows.append((c.key, medianMilliseconds(runs: runs) { _ = model.forward(x) }))
    }
    let torch = torchDetectorMilliseconds(threads: threads, runs: runs)
    print("| forward | posewarper ms | PyTorch ms | posewarper / PyTorch |")
    print("| --- | --- | --- | --- |")
    for (key, ms) in rows {
        let t = torch?[key]
        print("| \(key) | \(String(format: "%.1f", ms)) | \(t.map { String(format: "%.1f", $0) } ?? "-") | "
              + "\(t.map { String(format: "%.2f×", ms / $0) } ?? "-") |")
    }
    print("threads: \(threads)")
}

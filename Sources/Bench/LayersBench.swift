import Engine
import Foundation
import Models
import Tensors

/// Where the backbones' time goes: CPU time per convolution shape, ours next to PyTorch's
/// (Tools/reference/profile_layers_torch.py, same thread count, same run), for the two backbone rows of
/// the models section. CPU time (all threads) rather than wall time, so it also reads on a busy machine.
func layersBenchSections() -> [BenchSection] {
    [(name: "layers: backbone CPU time per convolution shape vs PyTorch", run: runLayersBench)]
}

private func torchLayers(threads: Int, runs: Int) -> [String: Any]? {
    torchReferenceJSON(script: "profile_layers_torch.py", threads: threads, runs: runs)?["models"] as? [String: Any]
}

private func runLayersBench() throws {
    let threads = EngineThreads.count
    let runs = Int(ProcessInfo.processInfo.environment["POSEWARPER_BENCH_RUNS"] ?? "") ?? 3
    let w48 = try PoseModel.random(.hrnet(widths: [48, 96, 192, 384], poseWarperNeck: (channels: 128, blocks: 20)))
    let w32 = try PoseModel.random(.hrnet(widths: [32, 64, 128, 256]), seed: 2)
    let x48 = randomInput([1, 3, 384, 288], seed: 3), x32 = randomInput([1, 3, 256, 192], seed: 4)
    let models: [(key: String, label: String, run: () -> Void)] = [
        ("hrnet_w48_384x288", "HRNet-W48 384×288 backbone", { _ = w48.features(x48) }),
        ("hrnet_w32_256x192", "HRNet-W32 256×192 top-down", { _ = w32.heatmaps(x32) }),
    ]
    var ours: [String: (total: Double, wall: Double, conv: [String: LayerProfile.Entry])] = [:]
    for model in models {
        model.run()   // warm-up: transformed weights, first-touch memory
        var totals: [Double] = [], walls: [Double] = [], profiles: [[String: LayerProfile.Entry]] = []
        for _ in 0..<runs {
            LayerProfile.start()
            let start = LayerProfile.processCPUSeconds(), wallStart = LayerProfile.wallSeconds()
            model.run()
            totals.append((LayerProfile.processCPUSeconds() - start) * 1000)
            walls.append((LayerProfile.wallSeconds() - wallStart) * 1000)
            profiles.append(LayerProfile.stop())
        }
        let conv = profiles[0].reduce(into: [String: LayerProfile.Entry]()) { acc, kv in
            var e = kv.value
            let times = profiles.compactMap { $0[kv.key]?.cpuSeconds }.sorted()
            e.cpuSeconds = times[times.count / 2]
            let wallTimes = profiles.compactMap { $0[kv.key]?.wallSeconds }.sorted()
            e.wallSeconds = wallTimes[wallTimes.count / 2]
            acc[kv.key] = e
        }
        ours[model.key] = (totals.sorted()[totals.count / 2], walls.sorted()[walls.count / 2], conv)
    }
    let torch = torchLayers(threads: threads, runs: runs)
    print("   threads \(threads), median of \(runs) runs; process CPU ms per forward (all threads); torch convs exclude their"
          + " BatchNorm and ReLU, which ours fold in; GFLOP/s = 2·MACs / our CPU time; cores = our CPU time / wall time"
          + " (layers run one at a time while profiling, so branches do not overlap here; idle workers spin up to 200 µs"
          + " between loops, which counts as CPU time)")
    for model in models {
        guard let mine = ours[model.key] else { continue }
        let theirs = torch?[model.key] as? [String: Any]
        let torchConv = theirs?["conv"] as? [String: [String: Double]] ?? [:]
        let torchTotal = theirs?["total_ms"] as? Double
        let convSum = mine.conv.values.reduce(0) { $0 + $1.cpuSeconds } * 1000
        let convWall = mine.conv.values.reduce(0) { $0 + $1.wallSeconds } * 1000
        print("   \(model.label): ours \(String(format: "%.0f", mine.total)) ms (convolutions \(String(format: "%.0f", convSum)),"
              + " other \(String(format: "%.0f", mine.total - convSum)));"
              + String(format: " wall %.0f ms (convolutions %.0f, other %.0f), %.2f cores", mine.wall, convWall,
                       mine.wall - convWall, mine.total / max(mine.wall, 1e-9))
              + (torchTotal.map { t in String(format: "; PyTorch %.0f ms (convolutions %.0f, other %.0f); ours/PyTorch %.2f",
                                               t, t - (theirs?["other_ms"] as? Double ?? 0), theirs?["other_ms"] as? Double ?? 0,
                                               mine.total / t) } ?? ""))
        print("     " + "shape (ours: algorithm)".padding(toLength: 42, withPad: " ", startingAt: 0)
              + " calls   ours ms  GFLOP/s  cores  torch ms  ours/torch")
        for (key, e) in mine.conv.sorted(by: { $0.value.cpuSeconds > $1.value.cpuSeconds }) {
            let ms = e.cpuSeconds * 1000
            // Our keys end in the algorithm; PyTorch's are the shape alone.
            let shape = key.split(separator: " ").dropLast().joined(separator: " ")
            var line = "     " + key.padding(toLength: 42, withPad: " ", startingAt: 0)
                + String(format: " %5d %9.1f %8.1f", e.calls, ms, 2 * Double(e.macs) / max(e.cpuSeconds, 1e-9) / 1e9)
                // Other threads' CPU time is only read at scheduler-tick accuracy: a ratio over less than
                // a few milliseconds of wall time says nothing.
                + (e.wallSeconds >= 0.003 ? String(format: " %6.2f", e.cpuSeconds / e.wallSeconds) : "      —")
            if let t = torchConv[shape]?["ms"] {
                line += String(format: " %9.1f %10.2f", t, ms / max(t, 1e-6))
            }
            print(line)
        }
    }
}

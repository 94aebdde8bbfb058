import Engine
import Foundation
import Models
import Tensors

/// Benchmark sections for the Models module: ms per forward and achieved GFLOP/s for the HRNet-W48
/// backbone, the PoseWarper neck, the full PoseWarper forward and HRNet-W32 top-down, next to
/// PyTorch's time for the same forwards (Tools/reference/bench_models_torch.py, same thread count)
/// when torch is importable.
func modelsBenchSections() -> [BenchSection] {
    [(name: "models: HRNet / PoseWarper forwards vs PyTorch", run: runModelsBench),
     (name: "warmup: W48 PoseWarper load, first and second forward, weight transforms, peak memory", run: runWarmupBench),
     (name: "precision: the models forwards in float32 vs bfloat16 (time, output deviation)", run: runPrecisionBench)]
}

/// A fresh W48 PoseWarper (the `make parity` checkpoint when present, else random weights): load time,
/// first forward (which builds each layer's transformed weights) against the second, and the process's
/// peak resident memory after each step. Run it alone (`posewarper-bench warmup`) for a clean peak.
private func runWarmupBench() throws {
    func peakMB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
    func timed<T>(_ body: () throws -> T) rethrows -> (T, wall: Double, cpu: Double) {
        func cpu() -> Double {
            var u = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = cpu()
        let result = try body()
        return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpu() - cpuStart)
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let checkpoint = ProcessInfo.processInfo.environment["POSEWARPER_W48"] ?? root.appendingPathComponent("parity/posewarper_w48_384x288.pth").path
    let fromFile = FileManager.default.fileExists(atPath: checkpoint)
    let (model, loadWall, loadCPU) = try timed {
        fromFile ? try PoseModel.load(weights: checkpoint)
            : try PoseModel.random(.hrnet(widths: [48, 96, 192, 384], poseWarperNeck: (channels: 128, blocks: 20)))
    }
    print(String(format: "   threads %d; %@: %.2f s (CPU %.2f s), peak RSS %.0f MB", EngineThreads.count,
                 fromFile ? "checkpoint \(checkpoint) loaded" : "random weights built", loadWall, loadCPU, peakMB()))
    let x = randomInput([5, 3, 384, 288], seed: 3)
    let before = (WeightTransforms.seconds, WeightTransforms.cpuSeconds, WeightTransforms.bytes)
    let (_, firstWall, firstCPU) = timed { model.forward(x) }
    let transformMB = Double(WeightTransforms.bytes - before.2) / 1048576
    print(String(format: "   first forward (1 person, 5 frames): %.2f s (CPU %.2f s), of which building transformed weights %.2f s"
                 + " (CPU %.2f s; %.0f MB: Winograd kernels, packed GEMM panels); peak RSS %.0f MB", firstWall, firstCPU,
                 WeightTransforms.seconds - before.0, WeightTransforms.cpuSeconds - before.1, transformMB, peakMB()))
    let (_, secondWall, secondCPU) = timed { model.forward(x) }
    print(String(format: "   second forward: %.2f s (CPU %.2f s); peak RSS %.0f MB", secondWall, secondCPU, peakMB()))
}

private struct ModelsBenchRow {
    let key: String, label: String
    let macs: Int
    let run: () -> Void
    let runs: Int
}

/// A deterministic pseudo-random tensor in [-1, 1) (the bench inputs).
func randomInput(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed
    return Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 23) - 1
    })
}

/// PyTorch medians by row key, or nil (with the reason printed) when torch is not importable.
private func torchMilliseconds(threads: Int, runs: Int) -> [String: Double]? {
    torchReferenceJSON(script: "bench_models_torch.py", threads: threads, runs: runs)?["rows"] as? [String: Double]
}

private func runModelsBench() throws {
    let threads = EngineThreads.count
    let env = ProcessInfo.processInfo.environment
    let runs = Int(env["POSEWARPER_BENCH_RUNS"] ?? "") ?? 3

    let w48 = try PoseModel.random(.hrnet(widths: [48, 96, 192, 384], poseWarperNeck: (channels: 128, blocks: 20)))
    let w32 = try PoseModel.random(.hrnet(widths: [32, 64, 128, 256]), seed: 2)
    let x48 = randomInput([5, 3, 384, 288], seed: 3)
    let one48 = Tensor(shape: [1, 3, 384, 288], storage: Array(x48.storage[0..<(3 * 384 * 288)]))
    let x32 = randomInput([1, 3, 256, 192], seed: 4)
    let cost48 = w48.description.cost(height: 384, width: 288)
    let cost32 = w32.description.cost(height: 256, width: 192)
    let frames = (0..<5).map { i in
        w48.features(Tensor(shape: [1, 3, 384, 288], storage: Array(x48.storage[i * 3 * 384 * 288..<(i + 1) * 3 * 384 * 288])))
    }

    let allRows = [
        ModelsBenchRow(key: "hrnet_w48_384x288", label: "HRNet-W48 384×288 backbone (1 crop)", macs: cost48.backbone,
                       run: { _ = w48.features(one48) }, runs: runs),
        ModelsBenchRow(key: "posewarper_neck_5_frames", label: "PoseWarper neck (5 frames, 96×72)", macs: cost48.neck,
                       run: { _ = w48.aggregate(frames) }, runs: runs),
        ModelsBenchRow(key: "posewarper_full", label: "PoseWarper full forward (1 person-frame)", macs: cost48.total,
                       run: { _ = w48.forward(x48) }, runs: runs),
        ModelsBenchRow(key: "hrnet_w32_256x192", label: "HRNet-W32 256×192 top-down (1 crop)", macs: cost32.total,
                       run: { _ = w32.heatmaps(x32) }, runs: max(runs, 5)),
    ]
    print(String(format: "   threads %d, median of %d runs (W32: %d); GFLOP/s = 2·nominal MACs / time (mmpose's work:",
                 threads, runs, max(runs, 5)) + " all 5 frames' offsets, so exact savings show as higher GFLOP/s)")
    print(String(format: "   PoseWarper MACs: backbone %.1f G/frame, neck %.1f G (residual blocks %.1f G, offset convs %.1f G, deformable %.1f G)",
                 Double(cost48.backbone) / 1e9, Double(cost48.neck) / 1e9, Double(cost48.neckResidualBlocks) / 1e9,
                 Double(cost48.neckOffsetConvs) / 1e9, Double(cost48.neckDeformConvs) / 1e9))
    // POSEWARPER_BENCH_ROWS=neck,full: only the rows whose key contains one of the words.
    let rowWords = (env["POSEWARPER_BENCH_ROWS"] ?? "").split(separator: ",").map(String.init)
    let rows = rowWords.isEmpty ? allRows : allRows.filter { row in rowWords.contains { row.key.contains($0) } }
    var swift: [String: Double] = [:]
    for row in rows {
        let times = medianTimes(runs: row.runs, row.run)
        swift[row.key] = times.wall
        print(String(format: "   posewarper %@: %.1f ms (CPU %.1f ms, all threads)", row.key, times.wall, times.cpu))
        fflush(stdout)   // progress is visible while PyTorch runs (stdout may be a file)
    }
    let torch = torchMilliseconds(threads: threads, runs: runs)
    let header = "   " + "forward".padding(toLength: 44, withPad: " ", startingAt: 0)
        + "  GMAC     ms   GFLOP/s   torch ms   torch/posewarper"
    print(header)
    for row in rows {
        let ms = swift[row.key]!
        var line = "   " + row.label.padding(toLength: 44, withPad: " ", startingAt: 0)
        line += String(format: "%6.1f %8.1f %8.1f", Double(row.macs) / 1e9, ms, 2 * Double(row.macs) / (ms / 1000) / 1e9)
        if let t = torch?[row.key] {
            line += String(format: " %10.1f %12.2f×", t, t / ms)
        } else {
            line += "          -            -"
        }
        print(line)
    }
}

/// The models rows in float32 and in bfloat16 (`--precision bf16`), timed alternately run by run (a
/// shared machine's load then hits both alike), with the bfloat16 output's relative L2 and max-abs
/// deviation from float32. Skipped, with the reason, on CPUs without AVX512-BF16.
private func runPrecisionBench() throws {
    if let problem = Precision.bfloat16.problem { print("   skipped: \(problem)"); return }
    let env = ProcessInfo.processInfo.environment
    let runs = Int(env["POSEWARPER_BENCH_RUNS"] ?? "") ?? 3
    let w48 = try PoseModel.random(.hrnet(widths: [48, 96, 192, 384], poseWarperNeck: (channels: 128, blocks: 20)))
    let w32 = try PoseModel.random(.hrnet(widths: [32, 64, 128, 256]), seed: 2)
    let x48 = randomInput([5, 3, 384, 288], seed: 3)
    let one48 = Tensor(shape: [1, 3, 384, 288], storage: Array(x48.storage[0..<(3 * 384 * 288)]))
    let x32 = randomInput([1, 3, 256, 192], seed: 4)
    let frames = (0..<5).map { i in
        w48.features(Tensor(shape: [1, 3, 384, 288], storage: Array(x48.storage[i * 3 * 384 * 288..<(i + 1) * 3 * 384 * 288])))
    }
    let allRows: [(key: String, model: PoseModel, run: () -> Tensor)] = [
        ("hrnet_w48_384x288", w48, { w48.features(one48) }),
        ("posewarper_neck_5_frames", w48, { w48.aggregate(frames) }),
        ("posewarper_full", w48, { w48.forward(x48) }),
        ("hrnet_w32_256x192", w32, { w32.heatmaps(x32) }),
    ]
    // POSEWARPER_BENCH_ROWS as in the models section.
    let rowWords = (env["POSEWARPER_BENCH_ROWS"] ?? "").split(separator: ",").map(String.init)
    let rows = rowWords.isEmpty ? allRows : allRows.filter { row in rowWords.contains { row.key.contains($0) } }
    print(String(format: "   threads %d, median of %d alternating runs; ms wall (CPU ms, all threads)", EngineThreads.count, runs))
    print("   " + "forward".padding(toLength: 26, withPad: " ", startingAt: 0)
          + "   fp32 ms (CPU)        bf16 ms (CPU)      CPU speed-up   bf16 vs fp32: rel L2, max abs")
    for row in rows {
        var outputs: [Precision: Tensor] = [:]
        var wall: [Precision: [Double]] = [:], cpu: [Precision: [Double]] = [:]
        for precision in [Precision.float32, .bfloat16] {   // warm-up: builds each precision's weights
            row.model.precision = precision
            outputs[precision] = row.run()
        }
        for _ in 0..<runs {
            for precision in [Precision.float32, .bfloat16] {
                row.model.precision = precision
                let start = DispatchTime.now().uptimeNanoseconds, cpuStart = cpuMilliseconds()
                _ = row.run()
                wall[precision, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                cpu[precision, default: []].append(cpuMilliseconds() - cpuStart)
            }
        }
        row.model.precision = .float32
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        let d = TensorDifference(outputs[.bfloat16]!, reference: outputs[.float32]!)
        let fw = median(wall[.float32]!), fc = median(cpu[.float32]!), bw = median(wall[.bfloat16]!), bc = median(cpu[.bfloat16]!)
        print("   " + row.key.padding(toLength: 26, withPad: " ", startingAt: 0)
              + String(format: "%9.1f (%7.1f)   %9.1f (%7.1f)   %8.2f×        %.2e, %.2e", fw, fc, bw, bc, fc / bc, d.relativeL2, d.maxAbs))
        fflush(stdout)
    }
}

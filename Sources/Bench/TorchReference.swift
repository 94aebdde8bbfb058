import Foundation

/// The JSON object a PyTorch reference script in Tools/reference prints (same threads and runs as the
/// bench), or nil with the reason printed when torch is not importable. Tries the repository's .venv,
/// then $BENCH_PYTHON, then python3.
func torchReferenceJSON(script name: String, threads: Int, runs: Int) -> [String: Any]? {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let script = root.appendingPathComponent("Tools/reference/" + name).path
    var candidates = ["/usr/bin/env"]
    for venv in [root.appendingPathComponent(".venv/bin/python").path, ProcessInfo.processInfo.environment["BENCH_PYTHON"] ?? ""]
        where !venv.isEmpty && FileManager.default.isExecutableFile(atPath: venv) { candidates.insert(venv, at: 0) }
    for python in candidates {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = (python == "/usr/bin/env" ? ["python3"] : []) + [script, "--threads", "\(threads)", "--runs", "\(runs)"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { continue }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 0, let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            return json
        }
        let reason = String(decoding: errData, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit \(process.terminationStatus)"
        print("   (PyTorch timings unavailable with \(python): \(reason))")
    }
    return nil
}

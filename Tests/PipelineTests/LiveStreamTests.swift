import Failures
import Foundation
import Keypoints
import XCTest
@testable import Pipeline
@testable import Video
#if canImport(Glibc)
import Glibc
#endif

/// `posewarper run udp://…` on a live MPEG-TS stream with audio, sent in real time by the ffmpeg
/// CLI (`make deps` installs it; the tests skip without it): the annotated video gets the stream's
/// audio, copied as packets while decoding (a live source cannot be reopened) and trimmed to the
/// video; with `--realtime`, a network slower than the stream drops frames and says how many,
/// instead of falling behind without bound.
final class LiveStreamTests: XCTestCase {
    static let seconds = 3.0, fps = 25
    static var frames: Int { Int(seconds) * fps }
    static let model = Fixtures.packageRoot.appendingPathComponent("Models/hrnet-w16-synth-128x96.yml").path

    /// The stream ends when no datagram came for this long (libavformat's udp `timeout`): long
    /// enough for the sender to start on a loaded machine, since the run opens the URL first.
    static let timeout = 5.0
    static func url(port: Int) -> String {
        "udp://127.0.0.1:\(port)?timeout=\(Int(timeout * 1_000_000))&fifo_size=1000000&overrun_nonfatal=1"
    }

    func testLiveUDPStreamWithAudioToAnnotatedVideo() throws {
        let dir = Fixtures.scratch()
        _ = try Self.ffmpegPath()
        let port = try Self.freeUDPPort()
        let k = dir + "/out.jsonl", v = dir + "/out.mp4"
        let (run, err) = try CLITests.launch(["run", Self.url(port: port), "--pipeline", Self.model, "--whole-frame",
                                              "--video", v, "--keypoints", k, "--preset", "ultrafast"])
        let (stderr, _) = try Self.stream(to: port, whileRunning: run, stderr: err)
        XCTAssertEqual(run.terminationStatus, ExitStatus.ok, stderr)
        XCTAssertFalse(stderr.contains("audio"), "nothing to say about the audio: \(stderr)")

        let stream = try KeypointStream.read(path: k)
        let indices = stream.frames.map(\.frame)
        // Every frame sent arrives on the loopback interface (a few may be lost on a loaded machine).
        XCTAssertGreaterThanOrEqual(indices.count, Self.frames - 3, stderr)
        XCTAssertLessThanOrEqual(indices.count, Self.frames)
        XCTAssertEqual(indices, Array(0..<indices.count))
        XCTAssertTrue(stream.frames.allSatisfy { $0.persons.count == 1 })
        XCTAssertEqual(stream.header?.video?.width, 160)

        // The audio is there, ends with the video (± one packet) and is not cut short.
        XCTAssertEqual(try OutputSafetyTests.checkVideo(v, audioSource: "udp"), indices.count)
        XCTAssertGreaterThan(try Self.audioEnd(v), Double(indices.count) / Double(Self.fps) - 0.2, "audio cut short")
        XCTAssertEqual(OutputSafetyTests.debris(dir), [])
    }

    /// A deliberately slow configuration (16 boxes a frame, one thread) on a 25 fps live stream:
    /// `--realtime` drops the frames the network cannot take, reports how many, and the run ends
    /// with the stream instead of seconds later; what it writes is valid, audio trimmed to it.
    func testRealtimeDropsFramesOfALiveStreamAndSaysHowMany() throws {
        let dir = Fixtures.scratch()
        _ = try Self.ffmpegPath()
        let port = try Self.freeUDPPort()
        var boxes: [[String: Any]] = []
        for f in 0..<Self.frames + 25 {
            for b in 0..<16 {
                boxes.append(["image_id": f, "category_id": 1, "score": 0.9, "bbox": [4 + 4 * b, 8 + b, 60, 100]])
            }
        }
        try JSONSerialization.data(withJSONObject: boxes).write(to: URL(fileURLWithPath: dir + "/boxes.json"))
        let k = dir + "/out.jsonl", v = dir + "/out.mp4"
        let (run, err) = try CLITests.launch(["run", Self.url(port: port), "--pipeline", Self.model, "--boxes", dir + "/boxes.json",
                                              "--threads", "1", "--realtime", "--video", v, "--keypoints", k, "--preset", "ultrafast"])
        let (stderr, tail) = try Self.stream(to: port, whileRunning: run, stderr: err)
        XCTAssertEqual(run.terminationStatus, ExitStatus.ok, stderr)

        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("--realtime:") }),
              let dropped = Int(line.split(separator: " ").first(where: { Int($0) != nil }) ?? "") else {
            return XCTFail("no count of dropped frames: \(stderr)")
        }
        let written = try KeypointStream.read(path: k).frames
        XCTAssertGreaterThan(dropped, 0, stderr)
        XCTAssertGreaterThan(written.count, 0, stderr)
        XCTAssertGreaterThanOrEqual(written.count + dropped, Self.frames - 3, stderr)
        XCTAssertLessThanOrEqual(written.count + dropped, Self.frames, stderr)
        // Kept frames keep their own indices and times.
        XCTAssertEqual(written.map(\.frame), written.map(\.frame).sorted())
        XCTAssertEqual(Set(written.map(\.frame)).count, written.count)
        XCTAssertTrue(written.allSatisfy { abs($0.time - Double($0.frame) / Double(Self.fps)) < 1e-6 })
        XCTAssertTrue(written.allSatisfy { $0.persons.count == 16 })
        XCTAssertEqual(try OutputSafetyTests.checkVideo(v, audioSource: "udp"), written.count)
        XCTAssertGreaterThan(try Self.audioEnd(v), (written.last?.time ?? 0) - 0.2, "audio cut short")
        // The run ends with the stream (its silence timeout, then the few frames in flight), not
        // after a backlog: without dropping, 75 frames of 16 crops on one thread outlast the stream.
        XCTAssertLessThan(tail, Self.timeout + 8, "the run fell behind the live stream: \(stderr)")
        XCTAssertEqual(OutputSafetyTests.debris(dir), [])
    }

    // MARK: Helpers

    /// Waits until `run` listens on `port`, sends the live clip there in real time (ffmpeg `-re`:
    /// test pattern and a sine tone, H.264 and AAC in MPEG-TS), then waits for `run` to end.
    /// Returns the run's stderr and how long it went on after the stream ended.
    static func stream(to port: Int, whileRunning run: Process, stderr err: Pipe) throws -> (stderr: String, tail: Double) {
        let ffmpeg = try ffmpegPath()
        // stderr is read while the run goes on, so a chatty run cannot block on a full pipe.
        var collected = Data()
        let done = DispatchSemaphore(value: 0)
        Thread {
            collected = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }.start()
        let deadline = Date().addingTimeInterval(20)
        while !isListening(port: port) {
            guard run.isRunning, Date() < deadline else {
                if run.isRunning { run.terminate() }
                run.waitUntilExit()
                done.wait()
                XCTFail("posewarper did not open udp port \(port): \(String(decoding: collected, as: UTF8.self))")
                return (String(decoding: collected, as: UTF8.self), 0)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let d = String(seconds)
        let sender = try Process.run(URL(fileURLWithPath: ffmpeg), arguments: [
            "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=\(fps):duration=\(d)",
            "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(d)",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "\(fps)", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-f", "mpegts", "udp://127.0.0.1:\(port)?pkt_size=1316"])
        sender.waitUntilExit()
        XCTAssertEqual(sender.terminationStatus, 0, "ffmpeg could not send the stream")
        let streamEnded = Date()
        // The run ends by itself when the stream has been silent for the URL's timeout.
        let end = Date().addingTimeInterval(30)
        while run.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.05) }
        if run.isRunning {
            run.terminate()
            XCTFail("the run did not end after the stream stopped")
        }
        run.waitUntilExit()
        let tail = Date().timeIntervalSince(streamEnded)
        done.wait()
        return (String(decoding: collected, as: UTF8.self), tail)
    }

    /// When the last audio packet of a video starts, counted from its first video packet.
    static func audioEnd(_ path: String) throws -> Double {
        let start = try packets(in: path, audio: false).map(\.seconds).min() ?? 0
        return (try packets(in: path, audio: true).map(\.seconds).max() ?? 0) - start
    }

    /// The ffmpeg CLI on PATH, if installed.
    static func ffmpegPath() throws -> String {
        let found = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/ffmpeg" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let found else { throw XCTSkip("ffmpeg CLI not installed (make deps installs it)") }
        return found
    }

    /// Whether a socket is bound to this UDP port on the loopback or any address (/proc/net/udp).
    static func isListening(port: Int) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/net/udp", encoding: .utf8) else { return false }
        let suffix = String(format: ":%04X", port)
        return table.split(separator: "\n").dropFirst().contains { line in
            line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first?.hasSuffix(suffix) ?? false
        }
    }

    /// A UDP port nothing uses now (the kernel's choice for a socket bound to port 0).
    static func freeUDPPort() throws -> Int {
        guard FileManager.default.fileExists(atPath: "/proc/net/udp") else { throw XCTSkip("needs Linux's /proc/net/udp") }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("no UDP sockets here") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw XCTSkip("cannot bind a UDP socket on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

import Failures
import Foundation
import XCTest
@testable import ModelZoo

/// Downloads as users meet them, against a loopback HTTP server: a file whose name carries its
/// true SHA-256 prefix is fetched, verified and cached; the cache is used without the network; a
/// corrupt body is refused and leaves nothing; a dropped connection resumes with a Range request;
/// no server gives an error naming the URL and where to put the file.
final class ModelStoreTests: XCTestCase {
    var server: LoopbackServer!
    var folder = ""

    /// A deterministic 300 kB "checkpoint" and its published name (`fake_pose-XXXXXXXX_20260101.pth`).
    let body = Data((0..<300_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) })
    var fileName: String { "fake_pose-\(SHA256.hex(body).prefix(8))_20260101.pth" }

    override func setUpWithError() throws {
        server = try LoopbackServer()
        folder = NSTemporaryDirectory() + "posewarper-zoo-\(ProcessInfo.processInfo.processIdentifier)-\(name.filter(\.isLetter))"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    func entry(_ name: String) -> ModelEntry {
        ModelEntry(name: "fake-pose", family: "test", task: .pose, detail: "test",
                   source: .download(server.baseURL.appendingPathComponent(name)))
    }

    var store: ModelStore { ModelStore(cacheFolder: folder + "/cache", dataFolders: [folder]) }

    func cacheListing() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/cache")) ?? []).sorted() }

    func testDownloadVerifiesCachesAndIsThenUsedWithoutTheNetwork() throws {
        server.serve(fileName, body)
        let model = entry(fileName)
        XCTAssertEqual(model.sha256Prefix, String(SHA256.hex(body).prefix(8)))
        var stages: [ModelStore.DownloadEvent.Stage] = []
        var last: Int64 = -1
        let path = try store.resolve(model) { event in
            stages.append(event.stage)
            if event.stage == .progress { XCTAssertGreaterThanOrEqual(event.bytes, last); last = event.bytes }
        }
        XCTAssertEqual(path, folder + "/cache/" + fileName)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), body)
        XCTAssertEqual(stages.first, .started)
        XCTAssertEqual(stages.last, .verified)
        XCTAssertEqual(last, Int64(body.count))
        XCTAssertEqual(cacheListing(), [fileName, fileName + ".lock"], "no partial file left")
        XCTAssertTrue(store.isPresent(model))

        // Second use: the cached file, no request (the server is gone).
        server.stop()
        server = nil
        var events = 0
        XCTAssertEqual(try store.resolve(model) { _ in events += 1 }, path)
        XCTAssertEqual(events, 0)
    }

    func testCorruptDownloadIsRefusedAndLeavesNothing() throws {
        var corrupt = body
        corrupt[1234] ^= 0x40
        server.serve(fileName, corrupt)
        let model = entry(fileName)
        XCTAssertThrowsError(try store.resolve(model)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(self.server.baseURL.absoluteString + "/" + self.fileName), message)
            XCTAssertTrue(message.contains(String(SHA256.hex(corrupt).prefix(8))), "the actual prefix: \(message)")
            XCTAssertTrue(message.contains(model.sha256Prefix!), "the expected prefix: \(message)")
            XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.failed)
        }
        XCTAssertFalse(cacheListing().contains(fileName))
        XCTAssertFalse(cacheListing().contains(fileName + ".partial"))
        XCTAssertFalse(store.isPresent(model))
    }

    func testDroppedDownloadResumesWithARangeRequestAndVerifies() throws {
        server.serve(fileName, body, truncatedAfter: 100_000)
        let model = entry(fileName)
        XCTAssertThrowsError(try store.resolve(model)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("after 100000 of 300000 bytes"), message)
            XCTAssertTrue(message.contains(self.folder + "/cache/" + self.fileName), "where to put the file: \(message)")
            XCTAssertTrue(message.contains("resumes the partial download"), message)
            XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.failed)
        }
        let partial = folder + "/cache/" + fileName + ".partial"
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: partial)), body.prefix(100_000))
        XCTAssertFalse(store.isPresent(model))

        let path = try store.resolve(model)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), body)
        XCTAssertEqual(server.requests.map(\.range), [nil, "bytes=100000-"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial))
    }

    func testRedirectedDownloadResumesAndVerifies() throws {
        server.serve("storage/" + fileName, body, truncatedAfter: 70_000)
        server.redirect(fileName, to: "storage/" + fileName)
        let model = entry(fileName)
        XCTAssertThrowsError(try store.resolve(model))
        let path = try store.resolve(model)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), body)
        XCTAssertEqual(server.requests.map(\.path), ["/" + fileName, "/storage/" + fileName, "/" + fileName, "/storage/" + fileName])
        XCTAssertEqual(server.requests.map(\.range), [nil, nil, "bytes=70000-", "bytes=70000-"], "the range survives the redirect")
    }

    func testServerIgnoringTheRangeStartsOver() throws {
        server.serve(fileName, body)
        server.ignoreRangeHeaders()
        try FileManager.default.createDirectory(atPath: folder + "/cache", withIntermediateDirectories: true)
        try Data(repeating: 0xEE, count: 5000).write(to: URL(fileURLWithPath: folder + "/cache/" + fileName + ".partial"))
        let path = try store.resolve(entry(fileName))
        XCTAssertEqual(server.requests.map(\.range), ["bytes=5000-"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), body)
    }

    func testCompletePartialFileIsVerifiedWithoutRefetching() throws {
        server.serve(fileName, body)
        try FileManager.default.createDirectory(atPath: folder + "/cache", withIntermediateDirectories: true)
        try body.write(to: URL(fileURLWithPath: folder + "/cache/" + fileName + ".partial"))
        let path = try store.resolve(entry(fileName))
        XCTAssertEqual(server.requests.map(\.range), ["bytes=300000-"], "answered 416 with the full length")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), body)
    }

    func testNoServerGivesTheURLAndWhereToPutTheFile() throws {
        let model = entry(fileName)
        server.stop()
        server = nil
        XCTAssertThrowsError(try store.resolve(model)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("download failed"), message)
            XCTAssertTrue(message.contains("http://127.0.0.1:"), message)
            XCTAssertTrue(message.contains(self.folder + "/cache/" + self.fileName), message)
            XCTAssertTrue(message.contains("POSEWARPER_MODEL_BASE_URL"), message)
            XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.failed)
        }
        XCTAssertEqual(cacheListing().filter { !$0.hasSuffix(".lock") }, [], "no file, no empty partial")
    }

    func testMissingFileOnTheServerIsAFailedDownload() throws {
        XCTAssertThrowsError(try store.resolve(entry(fileName))) { error in
            XCTAssertTrue("\(error)".contains("HTTP 404"), "\(error)")
        }
        XCTAssertFalse(cacheListing().contains(fileName))
    }

    func testNameWithoutAHashIsCheckedByLengthOnly() throws {
        server.serve("plain.pth", body)
        let model = entry("plain.pth")
        XCTAssertNil(model.sha256Prefix)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: try store.resolve(model))), body)
    }

    func testConcurrentUsersDownloadOnce() throws {
        server.serve(fileName, body)
        let model = entry(fileName), store = self.store
        let paths = UnsafeMutableBufferPointer<String?>.allocate(capacity: 4)
        defer { paths.deallocate() }
        paths.initialize(repeating: nil)
        DispatchQueue.concurrentPerform(iterations: 4) { i in paths[i] = try? store.resolve(model) }
        XCTAssertEqual(Array(paths), Array(repeating: folder + "/cache/" + fileName, count: 4))
        XCTAssertEqual(server.requests.count, 1, "the others waited for the first download")
    }

    func testBundledFilesComeFromTheDataFolders() throws {
        let bundled = ModelEntry(name: "ours", family: "test", task: .pose, detail: "test", source: .bundled("Models/ours.pth"))
        XCTAssertThrowsError(try store.resolve(bundled)) { error in
            XCTAssertTrue("\(error)".contains("ours.pth is not installed (looked in \(self.folder))"), "\(error)")
            XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.badInput)
        }
        try FileManager.default.createDirectory(atPath: folder + "/Models", withIntermediateDirectories: true)
        try body.write(to: URL(fileURLWithPath: folder + "/Models/ours.pth"))
        XCTAssertEqual(try store.resolve(bundled), folder + "/Models/ours.pth")
        XCTAssertEqual(cacheListing(), [], "bundled files are not copied into the cache")
    }

    func testEnvironmentChoosesCacheAndMirror() {
        let official = ModelRegistry.named("rtmdet-m-person")!
        let xdg = ModelStore(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u",
                                           "POSEWARPER_MODEL_BASE_URL": "http://mirror.local/models"])
        XCTAssertEqual(xdg.cacheFolder, "/x/cache/posewarper")
        XCTAssertEqual(xdg.url(of: official)?.absoluteString, "http://mirror.local/models/" + official.fileName)
        XCTAssertEqual(xdg.path(of: official), "/x/cache/posewarper/" + official.fileName)
        let home = ModelStore(environment: ["HOME": "/home/u", "XDG_CACHE_HOME": "relative/ignored"])
        XCTAssertEqual(home.cacheFolder, "/home/u/.cache/posewarper")
        XCTAssertEqual(home.url(of: official)?.absoluteString,
                       "https://download.openmmlab.com/mmpose/v1/projects/rtmpose/rtmdet_m_8xb32-100e_coco-obj365-person-235e8209.pth")
    }
}

/// The registry itself: unique names, hash prefixes read from the published names, and every
/// pipeline and bundled file present in the repository.
final class ModelRegistryTests: XCTestCase {
    func testHashPrefixesComeFromThePublishedNames() {
        XCTAssertEqual(ModelEntry.sha256Prefix(inFileName: "hrnet_w32_coco_256x192-c78dce93_20200708.pth"), "c78dce93")
        XCTAssertEqual(ModelEntry.sha256Prefix(inFileName: "yolox_s_8x8_300e_coco_20211121_095711-4592a793.pth"), "4592a793")
        XCTAssertEqual(ModelEntry.sha256Prefix(inFileName: "rtmdet_nano_8xb32-100e_coco-obj365-person-05d8511e.pth"), "05d8511e")
        XCTAssertNil(ModelEntry.sha256Prefix(inFileName: "yolox_s.pth"))
        XCTAssertNil(ModelEntry.sha256Prefix(inFileName: "rtmdet_tiny_8xb32-300e.pth"), "not hex")
        XCTAssertNil(ModelEntry.sha256Prefix(inFileName: "model-DEADBEEF.pth"), "hash prefixes are lowercase")
    }

    func testEntriesAreUniqueAndComplete() throws {
        let names = ModelRegistry.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(Set(ModelRegistry.all.map(\.fileName)).count, names.count)
        let store = ModelStore(cacheFolder: "/nonexistent")
        for entry in ModelRegistry.all {
            XCTAssertTrue(entry.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, entry.name)
            XCTAssertTrue(entry.fileName.hasSuffix(".pth"), entry.fileName)
            switch entry.source {
            case .download(let url):
                XCTAssertEqual(url.scheme, "https", entry.name)
                // Every OpenMMLab file publishes its hash; Megvii's release names do not.
                XCTAssertEqual(entry.sha256Prefix == nil, url.host == "github.com", entry.name)
            case .bundled:
                XCTAssertTrue(store.isPresent(entry), "\(entry.name): \(store.path(of: entry))")
            }
            if let pipeline = entry.pipeline {
                let path = try XCTUnwrap(store.pipelinePath(of: entry), "\(entry.name): \(pipeline) not found")
                // The pipeline file names the same checkpoint.
                XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("weights: " + entry.fileName), path)
            }
        }
    }
}

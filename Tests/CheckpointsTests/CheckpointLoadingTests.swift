import Foundation
import XCTest
import Checkpoints
import Tensors

/// Every valid fixture must read back exactly what torch wrote (names, dtypes, shapes, values).
final class CheckpointLoadingTests: XCTestCase {
    func testEveryFixtureMatchesManifest() throws {
        XCTAssertEqual(Fixtures.validNames.count, 9)
        for name in Fixtures.validNames {
            let expected = Fixtures.manifest[name]!
            let checkpoint = try Checkpoint.load(Fixtures.path(name))
            XCTAssertEqual(checkpoint.format.rawValue, expected["format"] as? String, name)
            let tensors = expected["tensors"] as! [[String: Any]]
            XCTAssertEqual(checkpoint.entries.map(\.name), tensors.map { $0["name"] as! String }, name)
            for (entry, want) in zip(checkpoint.entries, tensors) {
                let label = "\(name) \(entry.name)"
                XCTAssertEqual(entry.dtype.rawValue, want["dtype"] as? String, label)
                XCTAssertEqual(entry.shape, want["shape"] as? [Int], label)
                XCTAssertEqual(checkpoint.shape(entry.name), entry.shape, label)
                let tensor = try checkpoint.tensor(entry.name)
                XCTAssertEqual(tensor.shape, entry.shape, label)
                let sum = tensor.storage.reduce(0.0) { $0 + Double($1) }
                let sumsq = tensor.storage.reduce(0.0) { $0 + Double($1) * Double($1) }
                let wantSum = want["sum"] as! Double, wantSumsq = want["sumsq"] as! Double
                XCTAssertEqual(sum, wantSum, accuracy: 1e-5 * max(1, abs(wantSumsq)), label)
                XCTAssertEqual(sumsq, wantSumsq, accuracy: 1e-5 * max(1, wantSumsq), label)
                // Leading elements in row-major order catch stride/offset gathering mistakes.
                let first = (want["first"] as! [Double]).map { Float($0) }
                XCTAssertEqual(Array(tensor.storage.prefix(first.count)), first, label)
            }
        }
    }

    func testMetaIsKeptAndConvertsToJSON() throws {
        for name in ["mmpose_zip.pth", "mmpose_legacy.pth", "mmpose_protocol4_zip.pth", "weights.safetensors"] {
            let checkpoint = try Checkpoint.load(Fixtures.path(name))
            let meta = try XCTUnwrap(checkpoint.meta, name)
            let decoded = try JSONSerialization.jsonObject(with: Data(meta.jsonString().utf8))
            let want = Fixtures.manifest[name]!["meta"]!
            XCTAssertTrue((decoded as! NSDictionary).isEqual(want), "\(name): \(meta.jsonString())")
        }
        XCTAssertEqual(try Checkpoint.load(Fixtures.path("mmpose_zip.pth")).meta?["epoch"], .int(210))
        XCTAssertNil(try Checkpoint.load(Fixtures.path("nested_module_zip.pth")).meta)
    }

    func testZipAndLegacyAgreeElementForElement() throws {
        let zip = try Checkpoint.load(Fixtures.path("mmpose_zip.pth"))
        let legacy = try Checkpoint.load(Fixtures.path("mmpose_legacy.pth"))
        XCTAssertEqual(zip.entries, legacy.entries)
        for entry in zip.entries {
            XCTAssertEqual(try zip.tensor(entry.name), try legacy.tensor(entry.name), entry.name)
        }
    }

    func testNonContiguousViewsAreGathered() throws {
        let checkpoint = try Checkpoint.load(Fixtures.path("mmpose_zip.pth"))
        // head.transposed.weight is base.t() of a 5x7 tensor: element [i, j] == base[j, i].
        let t = try checkpoint.tensor("head.transposed.weight")
        XCTAssertEqual(t.shape, [7, 5])
        let slice = try checkpoint.tensor("head.slice.weight")   // big[2:5], storage offset 8
        let strided = try checkpoint.tensor("head.strided.weight") // big[:, ::2]
        XCTAssertEqual(slice.shape, [3, 4])
        XCTAssertEqual(strided.shape, [6, 2])
        // Both views share `big`: strided[2+r, c] == slice[r, 2c].
        for r in 0..<3 { for c in 0..<2 { XCTAssertEqual(strided[2 + r, c], slice[r, 2 * c]) } }
    }

    func testMissingTensorNameIsAnError() throws {
        let checkpoint = try Checkpoint.load(Fixtures.path("weights.safetensors"))
        XCTAssertThrowsError(try checkpoint.tensor("no.such.weight")) { error in
            XCTAssertTrue("\(error)".contains("no tensor named no.such.weight"))
        }
    }
}

import XCTest
import Checkpoints

/// Each kind of bad input gives a CheckpointError naming the file and the problem.
final class CheckpointErrorTests: XCTestCase {
    private func assertRejected(_ name: String, mentions fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        let path = name.hasPrefix("/") ? name : Fixtures.path(name)
        XCTAssertThrowsError(try Checkpoint.load(path), file: file, line: line) { error in
            guard let error = error as? CheckpointError else {
                return XCTFail("\(name): \(type(of: error)) is not a CheckpointError", file: file, line: line)
            }
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description, file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "\(error.description) lacks \"\(fragment)\"", file: file, line: line)
            }
        }
    }

    func testMissingFile() { assertRejected("/nonexistent/dir/model.pth", mentions: ["cannot open", "No such file"]) }
    func testTruncatedZip() { assertRejected("bad_truncated_zip.pth", mentions: ["truncated"]) }
    func testTruncatedLegacy() { assertRejected("bad_truncated_legacy.pth", mentions: ["truncated"]) }
    func testWrongLegacyMagicNumber() { assertRejected("bad_magic_legacy.pth", mentions: ["wrong magic number"]) }
    func testOsSystemIsRefused() { assertRejected("bad_os_system_legacy.pth", mentions: ["refuses to load global os.system"]) }
    func testBuiltinsEvalIsRefused() { assertRejected("bad_eval_zip.pth", mentions: ["refuses to load global builtins.eval"]) }
    func testUnlistedGlobalIsRefused() { assertRejected("bad_numpy_global_zip.pth", mentions: ["refuses to load global numpy"]) }
    func testStorageShorterThanDeclared() { assertRejected("bad_short_storage_zip.pth", mentions: ["storage 0 has 16 bytes, 40 declared"]) }
    func testViewPastItsStorage() { assertRejected("bad_view_past_storage_zip.pth", mentions: ["tensor w needs 8 float32 elements but its storage holds 6"]) }
    func testSafetensorsOffsetsPastEnd() { assertRejected("bad_offsets_past_end.safetensors", mentions: ["beyond the 40 data bytes"]) }
    func testSafetensorsOverlap() { assertRejected("bad_offsets_overlap.safetensors", mentions: ["a and b overlap"]) }
    func testSafetensorsSizeMismatch() { assertRejected("bad_offsets_size_mismatch.safetensors", mentions: ["span 12 bytes", "needs 16"]) }
    func testCyclicMetaEndsInAnError() { assertRejected("bad_cyclic_meta_zip.pth", mentions: ["nesting deeper than 200 levels"]) }
    /// libFuzzer finding: a zip64 locator in a file shorter than a zip64 record once trapped.
    func testTinyZip64FileFromFuzzer() { assertRejected("fuzz_zip64_tiny.pth", mentions: ["zip64 directory record out of range"]) }
    func testNotACheckpoint() { assertRejected("bad_not_a_checkpoint.txt", mentions: ["not a checkpoint"]) }
    func testDirectoryIsNotACheckpoint() { assertRejected(Fixtures.directory.path, mentions: ["not a regular file"]) }
}

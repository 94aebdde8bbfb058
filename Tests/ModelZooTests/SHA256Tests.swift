import Foundation
import XCTest
@testable import ModelZoo

/// SHA-256 against the FIPS 180-4 / NIST example vectors, fed whole and in uneven pieces.
final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testPiecesGiveTheSameDigestAsTheWhole() {
        let message = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let whole = SHA256.hex(message)
        for piece in [1, 3, 55, 56, 63, 64, 65, 127, 1000] {
            var hasher = SHA256()
            var offset = 0
            while offset < message.count {
                let end = min(offset + piece, message.count)
                hasher.update(message.subdata(in: offset..<end))
                offset = end
            }
            XCTAssertEqual(hasher.finalizeHex(), whole, "pieces of \(piece) bytes")
        }
    }

    func testFileDigestEqualsTheDataDigest() throws {
        let path = NSTemporaryDirectory() + "posewarper-sha-\(ProcessInfo.processInfo.processIdentifier).bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let data = Data((0..<3_000_001).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 9)) })
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256.hex(ofFile: path), SHA256.hex(data))
        XCTAssertThrowsError(try SHA256.hex(ofFile: path + ".missing"))
    }
}

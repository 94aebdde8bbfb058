import Foundation
import Tensors
import XCTest

final class TensorsTests: XCTestCase {
    func testNPYRoundTripKeepsShapeAndBits() throws {
        let t = Tensor(shape: [2, 3, 1], storage: [0, -1.5, .pi, 1e-30, 3e38, -0.0])
        let path = NSTemporaryDirectory() + "/roundtrip-\(UUID().uuidString).npy"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NPY.write(t, to: path)
        let back = try NPY.read(path)
        XCTAssertEqual(back.shape, [2, 3, 1])
        XCTAssertEqual(back.storage.map(\.bitPattern), t.storage.map(\.bitPattern))
        // The header is padded so the data starts on a 64-byte boundary, as NumPy writes it.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual((bytes.count - 6 * 4) % 64, 0)
    }

    func testNPYDecodesOtherDtypesAndScalars() throws {
        func npy(_ header: String, _ payload: [UInt8]) -> Data {
            var h = header
            while (10 + h.utf8.count + 1) % 16 != 0 { h += " " }
            h += "\n"
            var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.utf8.count), 0])
            d.append(contentsOf: Array(h.utf8))
            d.append(contentsOf: payload)
            return d
        }
        let i64 = try NPY.decode(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                     [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 7, 0, 0, 0, 0, 0, 0, 0]))
        XCTAssertEqual(i64.shape, [2])
        XCTAssertEqual(i64.storage, [-1, 7])
        let scalar = try NPY.decode(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                                        Array(withUnsafeBytes(of: 2.5.bitPattern.littleEndian) { Array($0) })))
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.storage, [2.5])
        XCTAssertThrowsError(try NPY.decode(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", [0, 0, 0, 0])))
        XCTAssertThrowsError(try NPY.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", [0, 0, 0, 0])))
        XCTAssertThrowsError(try NPY.decode(Data("not numpy at all".utf8)))
    }

    func testMissingNPYNamesTheFile() {
        XCTAssertThrowsError(try NPY.read("/nonexistent/x.npy")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/x.npy"))
        }
    }

    func testDifferenceNeverPassesNaN() {
        let d = TensorDifference([1, .nan], reference: [1, 2])
        XCTAssertFalse(d.relativeL2 <= 1e-5)
        XCTAssertFalse(d.maxAbs <= 1e-5)
        let ok = TensorDifference([1, 2.0001], reference: [1, 2])
        XCTAssertEqual(ok.maxAbs, 0.0001, accuracy: 1e-6)
        XCTAssertEqual(ok.relativeL2, 0.0001 / 5.0.squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(TensorDifference(Tensor(shape: [2]), reference: Tensor(shape: [1, 2])).relativeL2, .infinity)
    }
}

import Foundation
import Tensors
import XCTest

/// Files written by Tools/reference/make_model_fixtures.py (PyTorch reference, committed).
enum ModelFixtures {
    static let directory: String = {
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url.path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    static func path(_ name: String) -> String { "\(directory)/\(name)" }
    static func tensor(_ name: String) throws -> Tensor { try NPY.read(path(name + ".npy")) }
    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }
}

/// Asserts `value` matches `reference` (same shape, relative L2 ≤ bound, no NaN), printing the error.
func assertMatches(_ value: Tensor, _ reference: Tensor, bound: Double, _ label: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(value.shape, reference.shape, "\(label): shape", file: file, line: line)
    let d = TensorDifference(value, reference: reference)
    print("\(label): \(d)")
    XCTAssertLessThanOrEqual(d.relativeL2, bound, "\(label): \(d)", file: file, line: line)
}

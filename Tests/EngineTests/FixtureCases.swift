import Foundation
import Tensors
import XCTest

/// The per-op fixtures written by Tools/reference/make_op_fixtures.py, listed in Fixtures/cases.txt.
enum Fixtures {
    static let directory: String = {
        if let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) { return url.path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    struct Case {
        let kind: String, name: String
        let params: [String: Int]
        func int(_ key: String) -> Int { params[key]! }
        func tensor(_ what: String) throws -> Tensor { try NPY.read("\(Fixtures.directory)/\(name).\(what).npy") }
        func has(_ what: String) -> Bool { FileManager.default.fileExists(atPath: "\(Fixtures.directory)/\(name).\(what).npy") }
    }

    /// All cases of one kind ("conv", "deform", "upsample", "warp").
    static func cases(_ kind: String) throws -> [Case] {
        let text = try String(contentsOfFile: directory + "/cases.txt", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0] == kind else { return nil }
            var params: [String: Int] = [:]
            for p in parts.dropFirst(2) {
                let kv = p.split(separator: "=")
                if kv.count == 2, let v = Int(kv[1]) { params[String(kv[0])] = v }
            }
            return Case(kind: kind, name: String(parts[1]), params: params)
        }
    }
}

/// Asserts value matches reference within relative L2 `bound`, printing both error measures.
func assertClose(_ value: Tensor, _ reference: Tensor, bound: Double, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(value.shape, reference.shape, "\(label): shape", file: file, line: line)
    let d = TensorDifference(value, reference: reference)
    print("  \(label): \(d)")
    XCTAssertLessThanOrEqual(d.relativeL2, bound, "\(label): \(d)", file: file, line: line)
}

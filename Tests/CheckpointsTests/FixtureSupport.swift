import Foundation

/// Paths of the committed fixtures (written by Tools/reference/make_checkpoint_fixtures.py).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// manifest.json: file name → {format, tensors: [{name, dtype, shape, sum, sumsq, first}], meta}.
    static let manifest: [String: [String: Any]] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
    }()

    /// The valid checkpoints (every manifest entry).
    static var validNames: [String] { manifest.keys.sorted() }
}

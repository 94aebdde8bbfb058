import Foundation
import XCTest
import Checkpoints

/// Mutated fixtures (bit flips, truncations, insertions, overwritten length fields) must either load
/// (and then every tensor must read or fail cleanly) or throw CheckpointError: no crash, no hang.
final class CheckpointFuzzTests: XCTestCase {
    /// SplitMix64: a seeded generator so a failure is reproducible from its seed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ original: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = original
        switch rng.next() % 5 {
        case 0: // flip 1–8 random bits
            for _ in 0..<Int.random(in: 1...8, using: &rng) where !bytes.isEmpty {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            }
        case 1: // truncate
            bytes.removeLast(Int.random(in: 1...max(1, bytes.count), using: &rng))
        case 2: // insert 1–16 random bytes
            let at = Int.random(in: 0...bytes.count, using: &rng)
            bytes.insert(contentsOf: (0..<Int.random(in: 1...16, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
        case 3: // overwrite 4 or 8 bytes with an extreme integer (lengths, counts, offsets)
            let extremes: [UInt64] = [0, 1, 0x7F, 0xFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000_0000_0000, .max]
            let width = Bool.random(using: &rng) ? 4 : 8
            guard bytes.count > width else { break }
            let at = Int.random(in: 0...(bytes.count - width), using: &rng)
            let value = extremes.randomElement(using: &rng)!
            for k in 0..<width { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        default: // duplicate a random chunk (repeated opcodes, memo references)
            guard bytes.count > 2 else { break }
            let start = Int.random(in: 0..<bytes.count - 1, using: &rng)
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &rng))
            bytes.insert(contentsOf: bytes[start..<end], at: end)
        }
        return bytes
    }

    func testMutatedFixturesLoadOrThrowCheckpointError() throws {
        let names = Fixtures.validNames + ["bad_os_system_legacy.pth", "bad_eval_zip.pth", "bad_offsets_overlap.safetensors"]
        // Mutants go to RAM (/dev/shm) when available: the test measures the reader, not the disk.
        let scratch = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let directory = scratch.appendingPathComponent("checkpoint-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let mutantsPerFile = 1000
        var loaded = 0, rejected = 0, tensorsRead = 0
        let start = Date()
        for (fileIndex, name) in names.enumerated() {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))))
            for m in 0..<mutantsPerFile {
                let seed = UInt64(fileIndex) << 32 | UInt64(m)
                var rng = SplitMix64(state: seed)
                let mutant = Self.mutate(original, using: &rng)
                let path = directory.appendingPathComponent("m.bin").path
                guard FileManager.default.createFile(atPath: path, contents: Data(mutant)) else {
                    return XCTFail("cannot write \(path)")
                }
                do {
                    let checkpoint = try Checkpoint.load(path)
                    loaded += 1
                    for entry in checkpoint.entries {
                        let tensor = try checkpoint.tensor(entry.name)
                        XCTAssertEqual(tensor.shape, entry.shape, "\(name) seed \(seed)")
                        tensorsRead += 1
                    }
                } catch is CheckpointError {
                    rejected += 1
                } catch {
                    XCTFail("\(name) seed \(seed): \(type(of: error)) \(error) is not a CheckpointError")
                }
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("fuzz: \(names.count * mutantsPerFile) mutants, \(loaded) loaded (\(tensorsRead) tensors read), \(rejected) rejected, \(String(format: "%.1f", seconds)) s")
        XCTAssertEqual(loaded + rejected, names.count * mutantsPerFile)
        XCTAssertGreaterThan(rejected, names.count * mutantsPerFile / 4, "mutations should mostly be caught")
    }
}

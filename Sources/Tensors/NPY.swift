import Failures
import Foundation

/// Errors reading or writing NumPy `.npy` files.
public enum NPYError: UserFacingError {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case unsupported(path: String, reason: String)
    case unwritable(path: String, reason: String)

    /// Reading problems are the input's; a file that cannot be written is an output failure.
    public var isInputProblem: Bool {
        if case .unwritable = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .malformed(path, reason): return "\(path): not a valid .npy file: \(reason)"
        case let .unsupported(path, reason): return "\(path): unsupported .npy content: \(reason)"
        case let .unwritable(path, reason): return "\(path): cannot write: \(reason)"
        }
    }
}

/// NumPy `.npy` reading (float32/64, int8–64, uint8, bool → Float) and writing (little-endian float32).
public enum NPY {
    /// Reads a C-ordered `.npy` file and converts its elements to Float.
    public static func read(_ path: String) throws -> Tensor {
        let data: Data
        do { data = try InputFile.read(path) } catch {
            throw NPYError.unreadable(path: path, reason: error.reason)
        }
        return try decode(data, path: path)
    }

    /// Decodes `.npy` bytes; `path` only names the source in errors.
    public static func decode(_ data: Data, path: String = "<data>") throws -> Tensor {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NPYError.malformed(path: path, reason: "missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError.malformed(path: path, reason: "truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw NPYError.unsupported(path: path, reason: "format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .utf8) else {
            throw NPYError.malformed(path: path, reason: "truncated or non-text header")
        }
        let descr = try field("descr", in: header, path: path)
        let fortran = try field("fortran_order", in: header, path: path)
        let shapeText = try field("shape", in: header, path: path)
        guard fortran == "False" else { throw NPYError.unsupported(path: path, reason: "Fortran order") }
        let shape = try parseShape(shapeText, path: path)
        let count = shape.reduce(1, *)
        let descrValue = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        let (kind, size, bigEndian) = try parseDescr(descrValue, path: path)
        let payload = headerStart + headerLength
        guard bytes.count - payload >= count * size else {
            throw NPYError.malformed(path: path, reason: "\(bytes.count - payload) data bytes, shape \(shape) of \(descrValue) needs \(count * size)")
        }
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!.advanced(by: payload)
            for i in 0..<count {
                let p = base.advanced(by: i * size)
                out[i] = element(p, kind: kind, size: size, bigEndian: bigEndian)
            }
        }
        return Tensor(shape: shape, storage: out)
    }

    /// Writes a tensor as a little-endian float32 `.npy` file (version 1.0), atomically.
    public static func write(_ tensor: Tensor, to path: String) throws {
        let shapeText = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so the data starts on a 64-byte boundary, ending the header with a newline, as NumPy does.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let n = header.utf8.count
        data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.storage.withUnsafeBufferPointer { buffer in
            var le = [UInt32](repeating: 0, count: buffer.count)
            for i in 0..<buffer.count { le[i] = buffer[i].bitPattern.littleEndian }
            le.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        if let reason = data.withUnsafeBytes({ TemporaryFiles.writeAtomically($0, to: path) }) {
            throw NPYError.unwritable(path: path, reason: reason)
        }
    }

    private static func field(_ name: String, in header: String, path: String) throws -> String {
        guard let keyRange = header.range(of: "'\(name)'") ?? header.range(of: "\"\(name)\"") else {
            throw NPYError.malformed(path: path, reason: "header has no '\(name)'")
        }
        var rest = header[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { throw NPYError.malformed(path: path, reason: "unclosed shape") }
            return String(rest[...close])
        }
        rest = rest.prefix { $0 != "," && $0 != "}" }
        return rest.trimmingCharacters(in: .whitespaces)
    }

    private static func parseShape(_ text: String, path: String) throws -> [Int] {
        let inner = text.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        if inner.isEmpty { return [] }
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw NPYError.malformed(path: path, reason: "bad shape \(text)") }
            shape.append(v)
        }
        return shape
    }

    private enum Kind { case float, signed, unsigned, bool }

    private static func parseDescr(_ d: String, path: String) throws -> (Kind, Int, Bool) {
        guard d.count >= 2 else { throw NPYError.unsupported(path: path, reason: "dtype \(d)") }
        let order = d.first!
        let body = d.dropFirst()
        let kindChar = body.first!
        guard let size = Int(body.dropFirst()) else { throw NPYError.unsupported(path: path, reason: "dtype \(d)") }
        let big = order == ">"
        let kind: Kind
        switch (kindChar, size) {
        case ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
        case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
        case ("b", 1): kind = .bool
        default: throw NPYError.unsupported(path: path, reason: "dtype \(d)")
        }
        return (kind, size, big)
    }

    private static func element(_ p: UnsafeRawPointer, kind: Kind, size: Int, bigEndian: Bool) -> Float {
        func u(_ bits: UInt64) -> UInt64 { bigEndian ? bits.byteSwapped >> UInt64(64 - size * 8) : bits }
        var raw: UInt64 = 0
        withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: size)) }
        let v = u(raw)
        switch kind {
        case .float: return size == 4 ? Float(bitPattern: UInt32(truncatingIfNeeded: v)) : Float(Double(bitPattern: v))
        case .bool, .unsigned: return Float(v)
        case .signed:
            let shift = UInt64(64 - size * 8)
            return Float(Int64(bitPattern: v << shift) >> Int64(shift))
        }
    }
}

// The plain-data tree a checkpoint's pickle decodes to (what `Checkpoint.meta` exposes).
import Foundation

/// A decoded pickle value; only data types exist here, tensors appear as their dtype and shape.
public indirect enum PickleValue: Sendable, Equatable {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer beyond 64 bits, as little-endian two's-complement bytes (pickle LONG1/LONG4).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// A dict or OrderedDict, in insertion order.
    case dict([DictItem])
    case tensor(dtype: DType, shape: [Int])

    /// One key/value pair of a `.dict`.
    public struct DictItem: Sendable, Equatable {
        public let key: PickleValue
        public let value: PickleValue
    }

    /// The value stored under a string key when this is a dict.
    public subscript(key: String) -> PickleValue? {
        guard case .dict(let items) = self else { return nil }
        return items.first { $0.key == .string(key) }?.value
    }

    /// Compact JSON text; dict keys become strings, tuples arrays, bytes base64, non-finite floats null.
    public func jsonString() -> String {
        var out = ""
        writeJSON(into: &out)
        return out
    }

    func writeJSON(into out: inout String) {
        switch self {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .bigInt(let bytes): out += PickleValue.decimalString(littleEndianTwosComplement: bytes)
        case .float(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): out += PickleValue.jsonQuoted(s)
        case .bytes(let b): out += PickleValue.jsonQuoted(Data(b).base64EncodedString())
        case .list(let items), .tuple(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.writeJSON(into: &out)
            }
            out += "]"
        case .dict(let items):
            out += "{"
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                let key: String
                if case .string(let s) = item.key { key = s } else { key = item.key.jsonString() }
                out += PickleValue.jsonQuoted(key) + ":"
                item.value.writeJSON(into: &out)
            }
            out += "}"
        case .tensor(let dtype, let shape):
            out += "{\"tensor\":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))]}}"
        }
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    static func jsonQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Decimal text of an arbitrary-size two's-complement integer (schoolbook division by 10).
    static func decimalString(littleEndianTwosComplement bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "0" }
        var magnitude = Array(bytes.reversed())  // big-endian
        let negative = magnitude[0] & 0x80 != 0
        if negative {  // two's complement negate
            for i in magnitude.indices { magnitude[i] = ~magnitude[i] }
            var i = magnitude.count - 1
            while i >= 0 {
                let (v, overflow) = magnitude[i].addingReportingOverflow(1)
                magnitude[i] = v
                if !overflow { break }
                i -= 1
            }
        }
        var digits: [Character] = []
        while magnitude.contains(where: { $0 != 0 }) {
            var remainder = 0
            for i in magnitude.indices {
                let value = remainder * 256 + Int(magnitude[i])
                magnitude[i] = UInt8(value / 10)
                remainder = value % 10
            }
            digits.append(Character(String(remainder)))
        }
        if digits.isEmpty { return "0" }
        return (negative ? "-" : "") + String(digits.reversed())
    }
}

// safetensors: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
import Foundation

enum SafetensorsFormat {
    static let dtypes: [String: DType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64, "I64": .int64,
        "I32": .int32, "I16": .int16, "I8": .int8, "U8": .uint8, "BOOL": .bool,
    ]

    /// True when the file starts like a safetensors file (a plausible header length, then '{').
    static func looksLike(_ head: [UInt8], fileSize: Int) -> Bool {
        guard head.count >= 9 else { return false }
        let n = le(head, 0, 8)
        return n >= 2 && n <= UInt64(fileSize - 8) && head[8] == UInt8(ascii: "{")
    }

    /// The tensors in data order, plus `__metadata__` (string → string) when present.
    static func read(_ file: FileReader) throws -> (entries: [(String, StoredTensor)], meta: PickleValue?) {
        guard file.size >= 8 else { throw FormatError("safetensors file shorter than its 8-byte header length") }
        let headerLength = le(try file.bytes(at: 0, count: 8), 0, 8)
        guard headerLength <= 100_000_000, headerLength <= UInt64(file.size - 8) else {
            throw FormatError("safetensors header length \(headerLength) exceeds the file")
        }
        let headerBytes = try file.bytes(at: 8, count: Int(headerLength))
        guard let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            throw FormatError("safetensors header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = file.size - dataStart
        var meta: PickleValue?
        var found: [(name: String, begin: Int, end: Int, tensor: StoredTensor)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else { throw FormatError("safetensors __metadata__ is not an object") }
                meta = .dict(dict.keys.sorted().map { .init(key: .string($0), value: .string("\(dict[$0]!)")) })
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offsetsAny = info["data_offsets"] as? [Any] else {
                throw FormatError("safetensors entry \(name) lacks dtype, shape or data_offsets")
            }
            guard let dtype = dtypes[dtypeName] else { throw FormatError("safetensors entry \(name) has unsupported dtype \(dtypeName.prefix(20))") }
            let shape = try shapeAny.map { try nonNegativeInt($0, what: "shape", name: name) }
            let offsets = try offsetsAny.map { try nonNegativeInt($0, what: "data_offsets", name: name) }
            guard offsets.count == 2, offsets[0] <= offsets[1] else { throw FormatError("safetensors entry \(name) has bad data_offsets") }
            var elements = 1
            for n in shape {
                let (e, o) = elements.multipliedReportingOverflow(by: n)
                guard !o, e <= Int(Int32.max) * 64 else { throw FormatError("safetensors entry \(name) has too many elements") }
                elements = e
            }
            guard offsets[1] - offsets[0] == elements * dtype.byteCount else {
                throw FormatError("safetensors entry \(name): data_offsets span \(offsets[1] - offsets[0]) bytes but \(dtype.rawValue)\(shape) needs \(elements * dtype.byteCount)")
            }
            guard offsets[1] <= dataLength else {
                throw FormatError("safetensors entry \(name): data_offsets end at \(offsets[1]) beyond the \(dataLength) data bytes")
            }
            found.append((name, offsets[0], offsets[1],
                          StoredTensor(dtype: dtype, shape: shape, byteOffset: dataStart + offsets[0], byteCount: offsets[1] - offsets[0])))
        }
        found.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(found, found.dropFirst()) where b.begin < a.end {
            throw FormatError("safetensors entries \(a.name) and \(b.name) overlap")
        }
        return (found.map { ($0.name, $0.tensor) }, meta)
    }

    private static func nonNegativeInt(_ any: Any, what: String, name: String) throws -> Int {
        guard let number = any as? NSNumber, number.doubleValue == number.doubleValue.rounded(),
              number.doubleValue >= 0, number.doubleValue <= 9.0e15 else {
            throw FormatError("safetensors entry \(name) has a bad \(what) value")
        }
        return Int(number.doubleValue)
    }
}

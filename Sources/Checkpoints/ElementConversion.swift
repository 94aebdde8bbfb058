// Converting stored elements of any supported dtype to Float32, gathering strided views.

enum ElementConversion {
    /// IEEE half → float, exact (subnormals, infinities and NaN included).
    @inline(__always) static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: value = mantissa · 2^-24.
            let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
            return Float(bitPattern: magnitude.bitPattern | sign)
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }

    /// Element `i` of `raw` (already in the file's byte order) as Float.
    @inline(__always) static func element(_ raw: UnsafeRawPointer, _ i: Int, _ dtype: DType, swap: Bool) -> Float {
        switch dtype {
        case .float32:
            let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
            return Float(bitPattern: swap ? bits.byteSwapped : bits)
        case .float16:
            let bits = raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
            return halfToFloat(swap ? bits.byteSwapped : bits)
        case .bfloat16:
            let bits = raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
            return Float(bitPattern: UInt32(swap ? bits.byteSwapped : bits) << 16)
        case .float64:
            let bits = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
            return Float(Double(bitPattern: swap ? bits.byteSwapped : bits))
        case .int64:
            let bits = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
            return Float(Int64(bitPattern: swap ? bits.byteSwapped : bits))
        case .int32:
            let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
            return Float(Int32(bitPattern: swap ? bits.byteSwapped : bits))
        case .int16:
            let bits = raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)
            return Float(Int16(bitPattern: swap ? bits.byteSwapped : bits))
        case .int8: return Float(Int8(bitPattern: raw.load(fromByteOffset: i, as: UInt8.self)))
        case .uint8: return Float(raw.load(fromByteOffset: i, as: UInt8.self))
        case .bool: return raw.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0
        }
    }

    /// Writes the view's elements in row-major order into `out` from the span bytes `raw`.
    static func gather(_ raw: UnsafeRawPointer, _ t: StoredTensor, into out: UnsafeMutableBufferPointer<Float>) {
        let swap = t.bigEndian != (UInt16(1).bigEndian == 1)
        if t.isContiguous {
            for i in 0..<out.count { out[i] = element(raw, i, t.dtype, swap: swap) }
            return
        }
        // Odometer over the index space; `source` tracks Σ index·stride.
        let rank = t.shape.count
        var index = [Int](repeating: 0, count: rank)
        var source = 0
        for i in 0..<out.count {
            out[i] = element(raw, source, t.dtype, swap: swap)
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                source += t.stride[d]
                if index[d] < t.shape[d] { break }
                source -= t.stride[d] * t.shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

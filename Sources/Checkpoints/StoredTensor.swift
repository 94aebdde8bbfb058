// Where one tensor's elements live in the file, validated once at load so reads cannot overrun.

/// A strided tensor view over bytes at a known file offset.
struct StoredTensor {
    let dtype: DType
    let shape: [Int]
    /// Strides in elements (row-major contiguous tensors have the usual products).
    let stride: [Int]
    /// File byte offset of the view's first element (storage start + storage offset).
    let byteOffset: Int
    /// Bytes from `byteOffset` that the view touches (0 for empty tensors).
    let spanBytes: Int
    let bigEndian: Bool

    /// Checks that the view fits in its storage of `storageBytes` bytes at `storageByteOffset`.
    init(name: String, dtype: DType, shape: [Int], stride: [Int], storageOffset: Int,
         storageByteOffset: Int, storageBytes: Int, bigEndian: Bool, fileSize: Int) throws {
        guard shape.count == stride.count else { throw FormatError("tensor \(name): size and stride ranks differ") }
        var elements = 1
        var lastIndex = 0
        for (n, s) in zip(shape, stride) {
            guard n >= 0, s >= 0 else { throw FormatError("tensor \(name): negative size or stride") }
            let (e, o1) = elements.multipliedReportingOverflow(by: n)
            guard !o1, e <= Int(Int32.max) * 64 else { throw FormatError("tensor \(name): too many elements") }
            elements = e
            if n > 0 {
                let (step, o2) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o3) = lastIndex.addingReportingOverflow(step)
                guard !o2, !o3 else { throw FormatError("tensor \(name): stride overflow") }
                lastIndex = sum
            }
        }
        // Stride-0 (expanded) views may hold more elements than bytes, but not absurdly many: a
        // corrupt size must not make `tensor(name)` allocate gigabytes out of a small file.
        guard elements <= 4 * fileSize + 4096 else {
            throw FormatError("tensor \(name): \(elements) elements is implausible for a \(fileSize)-byte file")
        }
        let size = dtype.byteCount
        var span = 0
        if elements > 0 {
            let (last, o1) = storageOffset.addingReportingOverflow(lastIndex)
            let end = o1 ? Int.max : last + (last < Int.max ? 1 : 0)
            let (endBytes, o2) = end.multipliedReportingOverflow(by: size)
            guard !o1, !o2, endBytes <= storageBytes else {
                throw FormatError("tensor \(name) needs \(end) \(dtype.rawValue) elements but its storage holds \(storageBytes / size)")
            }
            span = (lastIndex + 1) * size
        }
        self.dtype = dtype
        self.shape = shape
        self.stride = stride
        self.byteOffset = storageByteOffset + storageOffset * size
        self.spanBytes = span
        self.bigEndian = bigEndian
    }

    /// A contiguous little-endian tensor (safetensors, or zip/legacy without views).
    init(dtype: DType, shape: [Int], byteOffset: Int, byteCount: Int) {
        var stride = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in shape.indices.reversed() { stride[i] = s; s *= shape[i] }
        self.dtype = dtype
        self.shape = shape
        self.stride = stride
        self.byteOffset = byteOffset
        self.spanBytes = byteCount
        self.bigEndian = false
    }

    var elementCount: Int { shape.reduce(1, *) }

    /// True when the elements are laid out row-major without gaps (size-1 dims may have any stride).
    var isContiguous: Bool {
        var expected = 1
        for i in shape.indices.reversed() where shape[i] != 1 {
            if stride[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }
}

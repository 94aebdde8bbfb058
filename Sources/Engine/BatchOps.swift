import Tensors

// Batch-axis helpers: a window's frames or a batch's persons stacked along axis 0.

/// Rows [start, start + count) of the batch axis.
public func sliceBatch(_ x: Tensor, start: Int, count: Int) -> Tensor {
    let per = x.count / x.shape[0]
    var shape = x.shape
    shape[0] = count
    return Tensor(shape: shape, storage: Array(x.storage[start * per..<(start + count) * per]))
}

/// Concatenation along the batch axis (the same shape otherwise).
public func concatBatch(_ xs: [Tensor]) -> Tensor {
    if xs.count == 1 { return xs[0] }
    var shape = xs[0].shape
    shape[0] = xs.reduce(0) { $0 + $1.shape[0] }
    var storage: [Float] = []
    storage.reserveCapacity(shape.reduce(1, *))
    for x in xs {
        precondition(Array(x.shape.dropFirst()) == Array(shape.dropFirst()), "concatBatch: shapes \(x.shape) and \(xs[0].shape) differ")
        storage.append(contentsOf: x.storage)
    }
    return Tensor(shape: shape, storage: storage)
}

/// `n` copies of the whole batch, one after the other along the batch axis.
public func repeatBatch(_ x: Tensor, _ n: Int) -> Tensor {
    if n == 1 { return x }
    var shape = x.shape
    shape[0] *= n
    var storage: [Float] = []
    storage.reserveCapacity(x.count * n)
    for _ in 0..<n { storage.append(contentsOf: x.storage) }
    return Tensor(shape: shape, storage: storage)
}

/// a − b elementwise (same shapes).
public func subtract(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "subtract: shapes \(a.shape) and \(b.shape) differ")
    return Tensor(shape: a.shape, unsafeUninitialized: { out in
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<out.count { out[i] = pa[i] - pb[i] }
            }
        }
    })
}

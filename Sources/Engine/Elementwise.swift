import CKernels
import Tensors

/// Nearest-neighbour upsampling of an [N, C, H, W] tensor by `factor` (mmpose fuse layers use 2^k).
public func upsampleNearest(_ x: Tensor, factor: Int) -> Tensor {
    precondition(x.rank == 4 && factor >= 1, "upsampleNearest expects [N, C, H, W] and factor ≥ 1, got \(x.shape), \(factor)")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    if factor == 1 { return x }
    return Tensor(shape: [x.shape[0], x.shape[1], h * factor, w * factor], unsafeUninitialized: { y in
        x.withUnsafeBufferPointer { xb in
            parallelChunks(planes, minChunk: max(1, parallelGrain / (h * w * factor * factor))) { r in
                pw_upsample_nearest(xb.baseAddress! + r.lowerBound * h * w, Int32(r.count), Int32(h), Int32(w),
                                    Int32(factor), y.baseAddress! + r.lowerBound * h * w * factor * factor)
            }
        }
    })
}

/// Element-wise sum of two tensors of the same shape.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    return Tensor(shape: a.shape, unsafeUninitialized: { y in
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                for i in 0..<y.count { y[i] = ab[i] + bb[i] }
            }
        }
    })
}

/// Element-wise max(x, 0).
public func relu(_ x: Tensor) -> Tensor {
    Tensor(shape: x.shape, unsafeUninitialized: { y in
        x.withUnsafeBufferPointer { xb in
            for i in 0..<y.count { y[i] = max(xb[i], 0) }
        }
    })
}

import CKernels
import Tensors

/// Max pooling with stride 1 and padding k/2 (output size = input size), k odd; the padding never
/// wins, as PyTorch's MaxPool2d(k, 1, k/2).
public func maxPoolSame(_ x: Tensor, kernel k: Int) -> Tensor {
    precondition(x.rank == 4 && k >= 1 && k % 2 == 1, "maxPoolSame expects [N, C, H, W] and an odd kernel, got \(x.shape), \(k)")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    return Tensor(shape: x.shape, unsafeUninitialized: { y in
        x.withUnsafeBufferPointer { xb in
            parallelChunks(planes, minChunk: max(1, 4096 / max(h * w, 1))) { r in
                ScratchPool.shared.withBuffer(h * w) { tmp in
                    pw_maxpool_same(xb.baseAddress! + r.lowerBound * h * w, Int32(r.count), Int32(h), Int32(w), Int32(k),
                                    tmp, y.baseAddress! + r.lowerBound * h * w)
                }
            }
        }
    })
}

/// Per-channel mean over H×W: [N, C, H, W] → [N, C] (summed in Double, then rounded once).
public func globalAveragePool(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "globalAveragePool expects [N, C, H, W], got \(x.shape)")
    let planes = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
    return Tensor(shape: [x.shape[0], x.shape[1]], unsafeUninitialized: { y in
        x.withUnsafeBufferPointer { xb in
            for p in 0..<planes {
                var s = 0.0
                for i in 0..<plane { s += Double(xb[p * plane + i]) }
                y[p] = Float(s / Double(plane))
            }
        }
    })
}

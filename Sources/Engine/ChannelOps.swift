import CKernels
import Tensors

/// Concatenation of [N, Ci, H, W] tensors along channels.
public func concatChannels(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty && parts.allSatisfy { $0.rank == 4 }, "concatChannels expects [N, C, H, W] tensors")
    let n = parts[0].shape[0], h = parts[0].shape[2], w = parts[0].shape[3]
    precondition(parts.allSatisfy { $0.shape[0] == n && $0.shape[2] == h && $0.shape[3] == w },
                 "concatChannels: shapes differ outside channels: \(parts.map(\.shape))")
    let total = parts.reduce(0) { $0 + $1.shape[1] }
    return Tensor(shape: [n, total, h, w], unsafeUninitialized: { y in
        var offset = 0
        for i in 0..<n {
            for part in parts {
                let count = part.shape[1] * h * w
                part.withUnsafeBufferPointer { pb in
                    (y.baseAddress! + offset).update(from: pb.baseAddress! + i * count, count: count)
                }
                offset += count
            }
        }
    })
}

/// YOLOX's Focus rearrangement: [N, C, H, W] → [N, 4C, H/2, W/2], blocks (even row, even col),
/// (odd row, even col), (even row, odd col), (odd row, odd col); H and W must be even.
public func spaceToDepth(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0, "spaceToDepth expects [N, C, H, W] with even H, W, got \(x.shape)")
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    return Tensor(shape: [n, 4 * c, h / 2, w / 2], unsafeUninitialized: { y in
        x.withUnsafeBufferPointer { xb in
            for i in 0..<n {
                pw_space_to_depth(xb.baseAddress! + i * c * h * w, Int32(c), Int32(h), Int32(w), y.baseAddress! + i * c * h * w)
            }
        }
    })
}

/// x[n, c, :, :] · s[n, c] (channel attention).
public func scaleChannels(_ x: Tensor, by s: Tensor) -> Tensor {
    precondition(x.rank == 4 && s.shape == [x.shape[0], x.shape[1]], "scaleChannels: \(x.shape) by \(s.shape)")
    let plane = x.shape[2] * x.shape[3]
    return Tensor(shape: x.shape, unsafeUninitialized: { y in
        x.withUnsafeBufferPointer { xb in
            s.withUnsafeBufferPointer { sb in
                for p in 0..<sb.count {
                    let f = sb[p]
                    for i in p * plane..<(p + 1) * plane { y[i] = xb[i] * f }
                }
            }
        }
    })
}

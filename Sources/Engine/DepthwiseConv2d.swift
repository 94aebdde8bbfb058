import CKernels
import Tensors

/// Depthwise k×k convolution (groups = channels) with BatchNorm folded in and a fused activation,
/// computed directly per channel (no im2col: one filter per channel leaves nothing for a GEMM to share).
public final class DepthwiseConv2d: @unchecked Sendable {   // immutable after init
    public let channels: Int, kernel: Int, stride: Int, padding: Int
    let weights: [Float]   // [C][k·k], BN folded
    let bias: [Float]?

    /// weight is [C, 1, k, k]; bias [C] or nil.
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int, batchNorm: BatchNorm? = nil) {
        precondition(weight.rank == 4 && weight.shape[1] == 1 && weight.shape[2] == weight.shape[3],
                     "DepthwiseConv2d weight must be [C, 1, k, k], got \(weight.shape)")
        channels = weight.shape[0]; kernel = weight.shape[2]
        self.stride = stride; self.padding = padding
        var w = weight.storage
        var b = bias?.storage
        if let bn = batchNorm {
            precondition(bn.weight.count == channels, "BatchNorm has \(bn.weight.count) channels, depthwise conv has \(channels)")
            let (scale, shift) = bn.scaleShift()
            let per = kernel * kernel
            for c in 0..<channels { for i in 0..<per { w[c * per + i] *= scale[c] } }
            b = (0..<channels).map { (b?[$0] ?? 0) * scale[$0] + shift[$0] }
        }
        weights = w
        self.bias = b
    }

    /// Output spatial size for an input of h×w.
    public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
    }

    /// y = activation(depthwise(x) + bias); x is [N, C, H, W].
    public func callAsFunction(_ x: Tensor, activation: Activation = .none) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == channels, "DepthwiseConv2d expects [N, \(channels), H, W], got \(x.shape)")
        let n = x.shape[0], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(height: h, width: w)
        precondition(ho > 0 && wo > 0, "DepthwiseConv2d: input \(h)×\(w) too small for the kernel")
        return Tensor(shape: [n, channels, ho, wo], unsafeUninitialized: { y in
            x.withUnsafeBufferPointer { xb in
                weights.withUnsafeBufferPointer { wb in
                    withOptionalArray(bias) { bp in
                        for i in 0..<n {
                            let xi = xb.baseAddress! + i * channels * h * w
                            let yi = y.baseAddress! + i * channels * ho * wo
                            parallelChunks(channels, minChunk: max(1, 8192 / max(ho * wo, 1))) { r in
                                pw_depthwise_conv(xi, Int32(h), Int32(w), wb.baseAddress!, bp, Int32(kernel), Int32(stride),
                                                  Int32(padding), Int32(ho), Int32(wo), activation.rawValue,
                                                  Int32(r.lowerBound), Int32(r.upperBound), yi)
                            }
                        }
                    }
                }
            }
        })
    }
}

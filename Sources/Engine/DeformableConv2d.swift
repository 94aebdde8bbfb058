import CKernels
import Tensors

/// Deformable convolution v1 with mmcv `DeformConv2d` (= torchvision `deform_conv2d`) semantics:
/// for deform group g and tap k = ky·kw + kx, offset channel 2·(g·kh·kw + k) is Δy and +1 is Δx; the
/// sample point is (y·stride − pad + ky·d + Δy, x·stride − pad + kx·d + Δx); it reads 0 outside
/// (−1, H)×(−1, W), else bilinear with out-of-image corners counting 0; channel c is in group c/(C/G).
public final class DeformableConv2d: @unchecked Sendable {
    public let outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int, dilation: Int, groups: Int, deformGroups: Int
    let matrix: GemmWeights
    let bias: [Float]?

    public init(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int, dilation: Int,
                groups: Int = 1, deformGroups: Int) {
        precondition(weight.rank == 4, "DeformableConv2d weight must be [out, in/groups, kh, kw], got \(weight.shape)")
        precondition(stride >= 1 && padding >= 0 && dilation >= 1 && groups >= 1 && deformGroups >= 1,
                     "DeformableConv2d: bad stride/padding/dilation/groups")
        outChannels = weight.shape[0]
        inChannels = weight.shape[1] * groups
        precondition(outChannels % groups == 0, "DeformableConv2d: outputs not divisible by groups")
        precondition(inChannels % deformGroups == 0, "DeformableConv2d: \(inChannels) inputs not divisible by \(deformGroups) deform groups")
        kernelHeight = weight.shape[2]; kernelWidth = weight.shape[3]
        self.stride = stride; self.padding = padding; self.dilation = dilation
        self.groups = groups; self.deformGroups = deformGroups
        if let bias { precondition(bias.count == outChannels, "DeformableConv2d bias size \(bias.count) != \(outChannels)") }
        matrix = GemmWeights(weight.storage, groups: groups, rows: outChannels / groups,
                             depth: weight.shape[1] * kernelHeight * kernelWidth)
        self.bias = bias?.storage
    }

    /// y = deformconv(x, offsets) (+ bias); x [N, C, H, W], offsets [N, 2·dg·kh·kw, Hout, Wout].
    public func callAsFunction(_ x: Tensor, offsets: Tensor) -> Tensor {
        callAsFunction(x, offsetParts: [offsets])
    }

    /// The same with the offsets given in parts along the batch axis (their batches sum to N): a
    /// window's frames' offsets are used where they were computed, not copied into one tensor first.
    public func callAsFunction(_ x: Tensor, offsetParts: [Tensor]) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "DeformableConv2d expects [N, \(inChannels), H, W], got \(x.shape)")
        let n = x.shape[0], h = x.shape[2], w = x.shape[3]
        let ho = (h + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1
        let wo = (w + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1
        let taps = kernelHeight * kernelWidth
        let offsetShape = [2 * deformGroups * taps, ho, wo]
        for part in offsetParts {
            precondition(part.rank == 4 && Array(part.shape.dropFirst()) == offsetShape,
                         "DeformableConv2d offsets \(part.shape) != \([part.shape.first ?? 0] + offsetShape)")
        }
        precondition(offsetParts.reduce(0) { $0 + $1.shape[0] } == n,
                     "DeformableConv2d: offsets for \(offsetParts.reduce(0) { $0 + $1.shape[0] }) samples, input has \(n)")
        // Sample i's offsets: part and position within it.
        var sampleOffsets: [(part: Int, index: Int)] = []
        for (p, part) in offsetParts.enumerated() { for j in 0..<part.shape[0] { sampleOffsets.append((p, j)) } }
        let plane = ho * wo
        return Tensor(shape: [n, outChannels, ho, wo], unsafeUninitialized: { y in
            x.withUnsafeBufferPointer { xb in
                withOptionalArray(bias) { bp in
                    ScratchPool.shared.withBuffer(inChannels * taps * plane) { cols in
                        for i in 0..<n {
                            let xi = xb.baseAddress! + i * inChannels * h * w
                            let (p, j) = sampleOffsets[i]
                            offsetParts[p].withUnsafeBufferPointer { ob in
                                let oi = ob.baseAddress! + j * 2 * deformGroups * taps * plane
                                parallelChunks(inChannels) { r in
                                    pw_deform_im2col(xi, oi, Int32(inChannels), Int32(h), Int32(w),
                                                     Int32(kernelHeight), Int32(kernelWidth), Int32(stride),
                                                     Int32(padding), Int32(dilation), Int32(ho), Int32(wo),
                                                     Int32(deformGroups), Int32(r.lowerBound), Int32(r.upperBound), cols)
                                }
                            }
                            matrix.apply(cols, n: plane, bias: bp, residual: nil, relu: false,
                                         y: y.baseAddress! + i * outChannels * plane)
                        }
                    }
                }
            }
        })
    }
}

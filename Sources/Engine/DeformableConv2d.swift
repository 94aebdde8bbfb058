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
        callAsFunction(x, offsetSources: offsetParts.map { .tensor($0) })
    }

    /// The same with each batch part's offsets from its source: offsets a convolution makes are
    /// computed block by block inside this convolution where the engine's float32 kernels run both
    /// (same bits as computing them first), so they never pass through memory.
    public func callAsFunction(_ x: Tensor, offsetSources: [DeformableOffsets]) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "DeformableConv2d expects [N, \(inChannels), H, W], got \(x.shape)")
        let n = x.shape[0], h = x.shape[2], w = x.shape[3]
        let (ho, wo) = outputSize(height: h, width: w)
        let taps = kernelHeight * kernelWidth
        let offsetChannels = 2 * deformGroups * taps
        for source in offsetSources {
            switch source {
            case .tensor(let t), .shared(let t, _):
                precondition(t.rank == 4 && Array(t.shape.dropFirst()) == [offsetChannels, ho, wo],
                             "DeformableConv2d offsets \(t.shape) != \([t.shape.first ?? 0, offsetChannels, ho, wo])")
                if case .shared = source { precondition(t.shape[0] == 1, "DeformableConv2d: shared offsets must be one sample") }
            case .convolution(let conv, let input, _):
                precondition(conv.outChannels == offsetChannels && input.rank == 4
                             && conv.outputSize(height: input.shape[2], width: input.shape[3]) == (ho, wo),
                             "DeformableConv2d: offset convolution \(conv.inChannels)→\(conv.outChannels) on \(input.shape) does not give [\(offsetChannels), \(ho), \(wo)]")
            }
        }
        let total = offsetSources.reduce(0) { $0 + $1.count }
        precondition(total == n, "DeformableConv2d: offsets for \(total) samples, input has \(n)")
        let plane = ho * wo
        return Tensor(shape: [n, outChannels, ho, wo], unsafeUninitialized: { y in
            x.withUnsafeBufferPointer { xb in
                withOptionalArray(bias) { bp in
                    var first = 0
                    for source in offsetSources {
                        let count = source.count
                        let xs = xb.baseAddress! + first * inChannels * h * w
                        let ys = y.baseAddress! + first * outChannels * plane
                        first += count
                        var part = source
                        if case .convolution(let conv, let input, let planBatch) = part, !fuses(part, height: h, width: w) {
                            // Offsets from a convolution that runs another way (Winograd, OpenBLAS) are made
                            // first, then still sampled and multiplied fused where the product allows.
                            part = .tensor(conv(input, planBatch: planBatch))
                        }
                        if fuses(part, height: h, width: w) {
                            fused(xs, count, h, w, ho, wo, part, bp, ys)
                        } else {
                            separatePasses(xs, count, h, w, part.tensor!, bp, ys)
                        }
                    }
                }
            }
        })
    }

    /// Output spatial size for an input of h×w.
    func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        ((h + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1,
         (w + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1)
    }

    /// Whether a part with these offsets on h×w inputs runs fused (pw_deform_fused): stride 1 on the
    /// engine's float32 kernels, offsets given or from a convolution that runs as a gathered product,
    /// and no layer profile collecting (which charges each layer its own time).
    func fuses(_ source: DeformableOffsets, height h: Int, width w: Int) -> Bool {
        let (ho, wo) = outputSize(height: h, width: w)
        guard stride == 1, groups == 1, Precision.current == .float32, GemmBackend.choose(columns: ho * wo) == .engine,
              !LayerProfile.isCollecting else { return false }
        if case .convolution(let conv, let input, let planBatch) = source {
            return conv.runsAsGatheredProduct(n: input.shape[0], h: input.shape[2], w: input.shape[3], planBatch: planBatch)
        }
        return true
    }

    /// The same output in separate passes over memory, sample by sample: its columns written out
    /// (pw_deform_im2col), then the product. `offsets` holds `count` samples' or one shared.
    func separatePasses(_ x: UnsafePointer<Float>, _ count: Int, _ h: Int, _ w: Int, _ offsets: Tensor,
                        _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
        let ho = offsets.shape[2], wo = offsets.shape[3], plane = ho * wo
        offsets.withUnsafeBufferPointer { ob in
            ScratchPool.shared.withBuffer(inChannels * kernelHeight * kernelWidth * plane) { cols in
                for i in 0..<count {
                    let o = ob.baseAddress! + (offsets.shape[0] == 1 ? 0 : i) * offsets.shape[1] * plane
                    let xi = x + i * inChannels * h * w
                    parallelChunks(inChannels) { r in
                        pw_deform_im2col(xi, o, Int32(inChannels), Int32(h), Int32(w),
                                         Int32(kernelHeight), Int32(kernelWidth), Int32(stride),
                                         Int32(padding), Int32(dilation), Int32(ho), Int32(wo),
                                         Int32(deformGroups), Int32(r.lowerBound), Int32(r.upperBound), cols)
                    }
                    matrix.apply(cols, n: plane, bias: bias, residual: nil, relu: false, y: y + i * outChannels * plane)
                }
            }
        }
    }

    /// `count` samples through pw_deform_fused (where `fuses`).
    private func fused(_ x: UnsafePointer<Float>, _ count: Int, _ h: Int, _ w: Int, _ ho: Int, _ wo: Int,
                       _ source: DeformableOffsets, _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
        let packed = matrix.packedWeights()
        withBorderedCopy(x, planes: count * inChannels, h, w) { padded, lp in
            packed.withUnsafeBufferPointer { pb in
                var job = pw_deform_job(x: padded, xImage: inChannels * (h + 2) * lp, xPlane: (h + 2) * lp, ld: Int32(lp),
                                        images: Int32(count), C: Int32(inChannels),
                                        H: Int32(h), W: Int32(w), kh: Int32(kernelHeight), kw: Int32(kernelWidth),
                                        pad: Int32(padding), dil: Int32(dilation), dg: Int32(deformGroups),
                                        Ho: Int32(ho), Wo: Int32(wo), A: pb.baseAddress!, M: Int32(outChannels), bias: bias,
                                        offsetInput: nil, offsetA: nil, offsetBias: nil, offsets: nil, offsetsImage: 0,
                                        y: y, yImage: outChannels * ho * wo)
                switch source {
                case .tensor(let t), .shared(let t, _):
                    let shared = t.shape[0] == 1
                    t.withUnsafeBufferPointer { ob in
                        job.offsets = ob.baseAddress!
                        job.offsetsImage = shared ? 0 : t.count / t.shape[0]
                        runFused(&job)
                    }
                case .convolution(let conv, let input, let planBatch):
                    let ran: Void? = input.withUnsafeBufferPointer { ib in
                        conv.withGatheredProduct(ib.baseAddress!, n: count, h: input.shape[2], w: input.shape[3],
                                                 planBatch: planBatch) { (cv, a, b) -> Void in
                            withUnsafePointer(to: cv) { (cvp: UnsafePointer<pw_conv_input>) -> Void in
                                job.offsetInput = cvp; job.offsetA = a; job.offsetBias = b
                                runFused(&job)
                            }
                        }
                    }
                    precondition(ran != nil, "DeformableConv2d: offset convolution no longer runs as a gathered product")
                }
            }
        }
    }

    /// body(pixel (0, 0) of the first plane, row length w + 2) on a copy of `planes` h×w planes, each
    /// with a zero border one pixel wide: a vector gather then reads every sample's four corners as
    /// two pairs, border or not (corners outside still read 0).
    private func withBorderedCopy(_ x: UnsafePointer<Float>, planes: Int, _ h: Int, _ w: Int,
                                  _ body: (UnsafePointer<Float>, Int) -> Void) {
        let lp = w + 2, size = (h + 2) * lp
        ScratchPool.shared.withBuffer(planes * size) { padded in
            for plane in 0..<planes {
                let dst = padded + plane * size, src = x + plane * h * w
                dst.update(repeating: 0, count: lp)
                for row in 0..<h {
                    dst[(row + 1) * lp] = 0
                    (dst + (row + 1) * lp + 1).update(from: src + row * w, count: w)
                    dst[(row + 1) * lp + w + 1] = 0
                }
                (dst + (h + 1) * lp).update(repeating: 0, count: lp)
            }
            body(padded + lp + 1, lp)
        }
    }

    /// The job's column blocks over the engine's threads (which block runs where changes no bits).
    private func runFused(_ job: inout pw_deform_job) {
        let blocks = (Int(job.images) * Int(job.Ho) * Int(job.Wo) + blockColumns - 1) / blockColumns
        let scratch = Int(pw_deform_fused_scratch(&job))
        let j = job
        parallelChunks(blocks) { r in
            ScratchPool.shared.withBuffer(scratch) { s in
                withUnsafePointer(to: j) { pw_deform_fused($0, Int32(r.lowerBound), Int32(r.upperBound), s) }
            }
        }
    }
}

/// Where a deformable convolution's offsets come from, for one part of its batch.
public enum DeformableOffsets {
    /// Offsets [n, 2·dg·kh·kw, Ho, Wo] for n samples.
    case tensor(Tensor)
    /// One sample's offsets [1, …] used for `count` samples.
    case shared(Tensor, count: Int)
    /// conv(input, planBatch:) ([n, …] for n samples), made where the deformable convolution uses them.
    case convolution(Conv2d, Tensor, planBatch: Int?)

    /// The offsets when given (nil: made by a convolution).
    var tensor: Tensor? {
        switch self {
        case .tensor(let t), .shared(let t, _): return t
        case .convolution: return nil
        }
    }

    /// The samples this part covers.
    var count: Int {
        switch self {
        case .tensor(let t): return t.shape[0]
        case .shared(_, let count): return count
        case .convolution(_, let input, _): return input.shape[0]
        }
    }
}

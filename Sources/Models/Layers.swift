import Engine
import Tensors

/// Reads one parameter (mmpose name) as Float32.
public typealias WeightReader = (String) throws -> Tensor

extension Conv2d {
    /// The engine conv for a spec, BatchNorm folded in (eps 1e-5 as mmpose's BN).
    static func make(_ spec: ConvSpec, _ read: WeightReader) throws -> Conv2d {
        var batchNorm: BatchNorm? = nil
        if let bn = spec.batchNorm {
            batchNorm = BatchNorm(weight: try read(bn + ".weight"), bias: try read(bn + ".bias"),
                                  runningMean: try read(bn + ".running_mean"), runningVar: try read(bn + ".running_var"),
                                  eps: 1e-5)
        }
        return Conv2d(weight: try read(spec.name + ".weight"), bias: spec.bias ? try read(spec.name + ".bias") : nil,
                      stride: spec.stride, padding: spec.padding, dilation: spec.dilation, batchNorm: batchNorm)
    }
}

/// BasicBlock / Bottleneck: convs with ReLU between, the last one adds the skip path then ReLU.
final class ResidualBlock {
    let convs: [Conv2d]
    let downsample: Conv2d?

    init(_ spec: BlockSpec, _ read: WeightReader) throws {
        convs = try spec.convs.map { try Conv2d.make($0, read) }
        downsample = try spec.downsample.map { try Conv2d.make($0, read) }
    }

    func callAsFunction(_ x: Tensor, planBatch: Int? = nil) -> Tensor {
        let skip = downsample.map { $0(x, planBatch: planBatch) } ?? x
        var y = x
        for conv in convs.dropLast() { y = conv(y, relu: true, planBatch: planBatch) }
        return convs.last!(y, residual: skip, relu: true, planBatch: planBatch)
    }
}

/// The blocks in order; `planBatch` as in `Conv2d`.
func runBlocks(_ blocks: [ResidualBlock], _ x: Tensor, planBatch: Int? = nil) -> Tensor {
    var y = x
    for block in blocks { y = block(y, planBatch: planBatch) }
    return y
}

/// mmpose HRModule: branches, then each output i = ReLU(Σ_j path_ij(x_j)).
final class HRModuleLayer {
    enum Path {
        case up(Conv2d, factor: Int)
        case down([Conv2d])
    }
    let branches: [[ResidualBlock]]
    let fuse: [[Path?]]

    init(_ spec: HRModuleSpec, _ read: WeightReader) throws {
        branches = try spec.branches.map { try $0.map { try ResidualBlock($0, read) } }
        fuse = try spec.fuse.map { row in
            try row.map { path -> Path? in
                switch path {
                case .up(let c, let factor): return .up(try Conv2d.make(c, read), factor: factor)
                case .down(let chain): return .down(try chain.map { try Conv2d.make($0, read) })
                case nil: return nil
                }
            }
        }
    }

    func callAsFunction(_ xs: [Tensor], planBatch: Int? = nil) -> [Tensor] {
        // Branches, then fuse rows, run side by side: HRNet gives every branch about the same work
        // (channels double as the side halves), and the low-resolution ones are too small to split
        // well inside their layers.
        let ys = concurrentMap(branches.count) { runBlocks(branches[$0], xs[$0], planBatch: planBatch) }
        if branches.count == 1 { return ys }
        return concurrentMap(fuse.count) { i in
            let row = fuse[i]
            // Running sum in branch order j = 0, 1, … like mmpose's `y += …`; the path of the last
            // term applies the final ReLU (fused into its conv where the conv comes last).
            var sum: Tensor? = nil
            let n = row.count
            for j in 0..<n {
                let last = j == n - 1
                switch row[j] {
                case nil:
                    sum = sum.map { add($0, ys[j]) } ?? ys[j]
                case .up(let conv, let factor)?:
                    let term = upsampleNearest(conv(ys[j], planBatch: planBatch), factor: factor)
                    sum = sum.map { add($0, term) } ?? term
                case .down(let chain)?:
                    var t = ys[j]
                    for conv in chain.dropLast() { t = conv(t, relu: true, planBatch: planBatch) }
                    if let s = sum {
                        sum = chain.last!(t, residual: s, relu: last, planBatch: planBatch)
                        if last { return sum! }
                    } else {
                        sum = chain.last!(t, planBatch: planBatch)
                    }
                }
            }
            return relu(sum!)
        }
    }
}

/// mmpose 0.x HRNet; returns the branch-0 output of the last stage.
final class HRNetBackbone {
    let stem: [Conv2d]
    let layer1: [ResidualBlock]
    let transitions: [[[Conv2d]?]]
    let stages: [[HRModuleLayer]]

    init(_ spec: BackboneSpec, _ read: WeightReader) throws {
        stem = try spec.stem.map { try Conv2d.make($0, read) }
        layer1 = try spec.layer1.map { try ResidualBlock($0, read) }
        transitions = try spec.transitions.map { stage in try stage.map { chain in try chain.map { try $0.map { try Conv2d.make($0, read) } } } }
        stages = try spec.stages.map { try $0.map { try HRModuleLayer($0, read) } }
    }

    /// `planBatch` as in `Conv2d`.
    func callAsFunction(_ x: Tensor, planBatch: Int? = nil) -> Tensor {
        var y = x
        for conv in stem { y = conv(y, relu: true, planBatch: planBatch) }
        var ys = [runBlocks(layer1, y, planBatch: planBatch)]
        for (trans, modules) in zip(transitions, stages) {
            // mmpose quirk: a transition always reads the LAST branch of the previous stage.
            var xs: [Tensor] = trans.enumerated().map { i, chain in
                guard let chain else { return ys[i] }
                var t = ys[ys.count - 1]
                for conv in chain { t = conv(t, relu: true, planBatch: planBatch) }
                return t
            }
            for module in modules { xs = module(xs, planBatch: planBatch) }
            ys = xs
        }
        return ys[0]
    }
}

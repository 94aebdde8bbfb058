import Tensors

/// Inference-mode BatchNorm parameters; folded into the preceding convolution at init.
public struct BatchNorm {
    public let weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor
    public let eps: Float

    public init(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps: Float = 1e-5) {
        precondition(weight.count == bias.count && bias.count == runningMean.count && runningMean.count == runningVar.count,
                     "BatchNorm parameter sizes differ: \(weight.shape) \(bias.shape) \(runningMean.shape) \(runningVar.shape)")
        self.weight = weight; self.bias = bias; self.runningMean = runningMean; self.runningVar = runningVar
        self.eps = eps
    }

    /// Per-channel (scale, shift) so that bn(v) = scale·v + shift, computed in Double like PyTorch's
    /// folded form would be, to keep the folded weights within float rounding of BN(conv(x)).
    func scaleShift() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: weight.count), shift = scale
        for c in 0..<weight.count {
            let s = Double(weight.storage[c]) / (Double(runningVar.storage[c]) + Double(eps)).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(bias.storage[c]) - Double(runningMean.storage[c]) * s)
        }
        return (scale, shift)
    }
}

import CKernels
import Tensors

/// Element-wise activations of the detector networks (codes shared with the C kernels).
public enum Activation: Int32, Sendable {
    case none = 0, relu = 1
    /// x·sigmoid(x) (YOLOX, RTMDet).
    case silu = 2
    case sigmoid = 3
    /// clamp(x + 3, 0, 6) / 6 (PyTorch's Hardsigmoid; RTMDet channel attention).
    case hardSigmoid = 4
}

/// Applies `activation` to every element in place, split over the engine's threads.
public func activate(_ x: inout Tensor, _ activation: Activation) {
    if activation == .none { return }
    let n = x.count
    x.withUnsafeMutableBufferPointer { b in
        let base = b.baseAddress!
        parallelChunks(n, minChunk: 65_536) { r in
            pw_activate(base + r.lowerBound, r.count, activation.rawValue)
        }
    }
}

/// `activation` of a copy of x.
public func activated(_ x: Tensor, _ activation: Activation) -> Tensor {
    var y = x
    activate(&y, activation)
    return y
}

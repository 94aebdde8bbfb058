/// How far one tensor is from a reference: the product's single definition of "matches PyTorch".
public struct TensorDifference: Sendable, CustomStringConvertible {
    /// ‖a − b‖₂ / ‖b‖₂ (b is the reference); infinite when either side holds a NaN or infinity.
    public let relativeL2: Double
    /// max |a − b|; infinite when either side holds a NaN or infinity.
    public let maxAbs: Double

    /// Compares `value` against `reference` element by element; shapes must hold the same count.
    public init(_ value: [Float], reference: [Float]) {
        precondition(value.count == reference.count, "comparing \(value.count) elements against \(reference.count)")
        var diff2 = 0.0, ref2 = 0.0, worst = 0.0
        var finite = true
        for i in 0..<value.count {
            let a = Double(value[i]), b = Double(reference[i])
            // A NaN must never pass: NaN comparisons are false, so check finiteness explicitly.
            if !a.isFinite || !b.isFinite { finite = false; break }
            let d = a - b
            diff2 += d * d
            ref2 += b * b
            worst = max(worst, abs(d))
        }
        if !finite {
            relativeL2 = .infinity
            maxAbs = .infinity
        } else {
            relativeL2 = ref2 > 0 ? (diff2 / ref2).squareRoot() : (diff2 > 0 ? .infinity : 0)
            maxAbs = worst
        }
    }

    /// Compares two tensors; differing shapes count as an infinite difference.
    public init(_ value: Tensor, reference: Tensor) {
        if value.shape != reference.shape {
            self.init([.infinity], reference: [0])
        } else {
            self.init(value.storage, reference: reference.storage)
        }
    }

    public var description: String {
        "relative L2 \(relativeL2.formatted6), max abs \(maxAbs.formatted6)"
    }
}

extension Double {
    fileprivate var formatted6: String {
        isFinite ? String(format6: self) : "inf"
    }
}

extension String {
    fileprivate init(format6 x: Double) {
        // Avoid Foundation here: scientific notation with 3 significant digits.
        if x == 0 { self = "0"; return }
        var e = 0
        var m = abs(x)
        while m >= 10 { m /= 10; e += 1 }
        while m < 1 { m *= 10; e -= 1 }
        let r = (m * 100).rounded() / 100
        self = (x < 0 ? "-" : "") + "\(r)e\(e)"
    }
}

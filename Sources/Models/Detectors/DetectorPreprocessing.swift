import Foundation
import Tensors

/// Where a frame sits in the detector's input: input = frame · scale + offset, per axis.
public struct LetterboxTransform: Equatable, Sendable {
    public var scaleX: Double, scaleY: Double, offsetX: Double, offsetY: Double

    /// A box from input pixels back to frame pixels.
    public func toFrame(_ d: Detection) -> Detection {
        Detection(x1: Float((Double(d.x1) - offsetX) / scaleX), y1: Float((Double(d.y1) - offsetY) / scaleY),
                  x2: Float((Double(d.x2) - offsetX) / scaleX), y2: Float((Double(d.y2) - offsetY) / scaleY), score: d.score)
    }
}

/// The detector input [1, 3, H, W] for a packed RGB8 frame: aspect-preserving resize (OpenCV
/// INTER_LINEAR convention: half-pixel centres, edges clamped, rounded to 8 bits like cv2.resize on
/// uint8), padded with `padValue`, channels in `channelOrder`, then (v − mean) / std.
public func detectorInput(rgb: [UInt8], width: Int, height: Int, settings s: DetectorSettings) -> (input: Tensor, transform: LetterboxTransform) {
    precondition(width > 0 && height > 0 && rgb.count >= width * height * 3, "detectorInput: \(width)×\(height) frame needs \(width * height * 3) bytes")
    let r = min(Double(s.inputWidth) / Double(width), Double(s.inputHeight) / Double(height))
    let newW: Int, newH: Int
    switch s.scaleRounding {
    case .floor: newW = Int(Double(width) * r); newH = Int(Double(height) * r)
    case .round: newW = Int(Double(width) * r + 0.5); newH = Int(Double(height) * r + 0.5)
    }
    let nw = max(1, min(newW, s.inputWidth)), nh = max(1, min(newH, s.inputHeight))
    let offX = s.letterbox == .center ? (s.inputWidth - nw) / 2 : 0
    let offY = s.letterbox == .center ? (s.inputHeight - nh) / 2 : 0
    let transform: LetterboxTransform
    switch s.scaleRounding {
    case .floor: transform = LetterboxTransform(scaleX: r, scaleY: r, offsetX: Double(offX), offsetY: Double(offY))
    case .round: transform = LetterboxTransform(scaleX: Double(nw) / Double(width), scaleY: Double(nh) / Double(height),
                                                offsetX: Double(offX), offsetY: Double(offY))
    }
    // Source coordinate and weight per destination column / row (OpenCV: (d + 0.5)·src/dst − 0.5, clamped).
    func taps(_ dst: Int, _ src: Int) -> [(Int, Int, Float)] {
        let scale = Double(src) / Double(dst)
        return (0..<dst).map { d in
            let f = (Double(d) + 0.5) * scale - 0.5
            var i = Int(f.rounded(.down)), t = f - Double(i)
            if i < 0 { i = 0; t = 0 }
            if i >= src - 1 { i = src - 1; t = 0 }
            return (i, min(i + 1, src - 1), Float(t))
        }
    }
    let xs = taps(nw, width), ys = taps(nh, height)
    let W = s.inputWidth, H = s.inputHeight, plane = W * H
    let order = s.channelOrder == .rgb ? [0, 1, 2] : [2, 1, 0]
    var input = Tensor(shape: [1, 3, H, W])
    input.withUnsafeMutableBufferPointer { out in
        for c in 0..<3 {
            let src = order[c]
            let padded = (s.padValue - s.mean[c]) / s.std[c]
            for i in 0..<plane { out[c * plane + i] = padded }
            for y in 0..<nh {
                let (y0, y1, ty) = ys[y]
                for x in 0..<nw {
                    let (x0, x1, tx) = xs[x]
                    func px(_ yy: Int, _ xx: Int) -> Float { Float(rgb[(yy * width + xx) * 3 + src]) }
                    let top = px(y0, x0) * (1 - tx) + px(y0, x1) * tx
                    let bottom = px(y1, x0) * (1 - tx) + px(y1, x1) * tx
                    let v = (top * (1 - ty) + bottom * ty).rounded(.toNearestOrAwayFromZero)
                    out[c * plane + (y + offY) * W + x + offX] = (min(max(v, 0), 255) - s.mean[c]) / s.std[c]
                }
            }
        }
    }
    return (input, transform)
}

extension DetectorModel {
    /// Persons in a packed RGB8 frame, in frame pixels, best first.
    public func detectPersons(rgb: [UInt8], width: Int, height: Int, settings: DetectorSettings) -> [Detection] {
        let (input, transform) = detectorInput(rgb: rgb, width: width, height: height, settings: settings)
        return decodePersons(forward(input), family: description.family, settings: settings).map(transform.toFrame)
    }
}

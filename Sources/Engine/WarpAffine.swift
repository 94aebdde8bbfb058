import CKernels

/// Affine warp of a packed RGB8 image (cv2.warpAffine INTER_LINEAR, constant-0 border; `matrix` maps
/// SOURCE→DESTINATION pixel coords like mmpose's get_affine_transform output, 2x3 row-major), then
/// (v/255 − mean)/std per channel → [3, outHeight, outWidth] written into `into` (so crops of one
/// frame's persons can fill one batch tensor without copies).
///
/// The warp reproduces OpenCV's fixed-point path (≤ 4.10 `WarpAffineInvoker` + 8-bit `remapBilinear`):
/// source coordinates rounded to 1/32 pixel, exact 15-bit weights, the result rounded to uint8 —
/// as mmpose's TopDownAffine produces a uint8 crop before ToTensor/Normalize.
public func warpAffineNormalized(rgb: UnsafeBufferPointer<UInt8>, width: Int, height: Int, rowStride: Int,
                                 matrix: [Double], outWidth: Int, outHeight: Int, mean: [Float], std: [Float],
                                 into: UnsafeMutablePointer<Float>) {
    precondition(matrix.count == 6 && mean.count == 3 && std.count == 3, "warpAffineNormalized: matrix needs 6 values, mean/std 3")
    precondition(width >= 0 && height >= 0 && rowStride >= width * 3 && rgb.count >= (height > 0 ? (height - 1) * rowStride + width * 3 : 0),
                 "warpAffineNormalized: \(rgb.count) bytes do not hold a \(width)×\(height) RGB image with row stride \(rowStride)")
    // Invert the source→destination matrix exactly as cv2.warpAffine does without WARP_INVERSE_MAP.
    var m = matrix
    var det = m[0] * m[4] - m[1] * m[3]
    det = det != 0 ? 1 / det : 0
    let a11 = m[4] * det, a22 = m[0] * det
    m[0] = a11; m[1] *= -det; m[3] *= -det; m[4] = a22
    let b1 = -m[0] * m[2] - m[1] * m[5], b2 = -m[3] * m[2] - m[4] * m[5]
    m[2] = b1; m[5] = b2
    // Normalisation table in the same float32 operation order as ToTensor (v/255) then Normalize.
    var lut = [Float](repeating: 0, count: 768)
    for c in 0..<3 {
        for v in 0..<256 { lut[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] }
    }
    if width == 0 || height == 0 {
        // Nothing to sample: every destination pixel is the constant-0 border.
        for c in 0..<3 { for i in 0..<(outWidth * outHeight) { into[c * outWidth * outHeight + i] = lut[c * 256] } }
        return
    }
    m.withUnsafeBufferPointer { mb in
        lut.withUnsafeBufferPointer { lb in
            parallelChunks(outHeight, minChunk: 16) { r in
                pw_warp_affine_rgb(rgb.baseAddress!, Int32(width), Int32(height), Int32(rowStride), mb.baseAddress!,
                                   Int32(outWidth), Int32(outHeight), lb.baseAddress!, into,
                                   Int32(r.lowerBound), Int32(r.upperBound))
            }
        }
    }
}

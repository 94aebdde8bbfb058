import CFFmpeg

/// Converts packed RGB frames to the encoder's YUV 4:2:0 picture (BT.709 matrix, limited range),
/// padding odd sizes to even by repeating the last column / row (yuv420p needs even sizes).
final class YUVConverter {
    let width: Int, height: Int            // input (RGB) size
    let paddedWidth: Int, paddedHeight: Int
    private var sws: OpaquePointer?
    private var padded: [UInt8]

    init(width: Int, height: Int) throws {
        self.width = width
        self.height = height
        paddedWidth = width + width % 2
        paddedHeight = height + height % 2
        padded = (paddedWidth == width && paddedHeight == height) ? [] : [UInt8](repeating: 0, count: paddedWidth * paddedHeight * 3)
        sws = sws_getContext(Int32(paddedWidth), Int32(paddedHeight), AV_PIX_FMT_RGB24, Int32(paddedWidth), Int32(paddedHeight),
                             AV_PIX_FMT_YUV420P, SWS_BILINEAR | SWS_ACCURATE_RND, nil, nil, nil)
        guard sws != nil else { throw VideoError.encodeFailed("encoder", reason: "cannot create the RGB→YUV converter") }
        let bt709 = sws_getCoefficients(SWS_CS_ITU709)
        _ = sws_setColorspaceDetails(sws, bt709, 1, bt709, 0, 0, 1 << 16, 1 << 16)
    }

    deinit { sws_freeContext(sws) }

    /// Fills `picture` (yuv420p, padded size, writable) from `rgb` (width*height*3 bytes).
    func convert(_ rgb: [UInt8], into picture: UnsafeMutablePointer<AVFrame>) {
        if padded.isEmpty {
            rgb.withUnsafeBufferPointer { scale($0.baseAddress!, into: picture) }
            return
        }
        let rowBytes = width * 3, paddedRow = paddedWidth * 3
        padded.withUnsafeMutableBufferPointer { dst in
            rgb.withUnsafeBufferPointer { src in
                for y in 0..<paddedHeight {
                    let sy = min(y, height - 1)
                    let d = dst.baseAddress! + y * paddedRow
                    d.update(from: src.baseAddress! + sy * rowBytes, count: rowBytes)
                    if paddedWidth > width {
                        d[rowBytes] = d[rowBytes - 3]; d[rowBytes + 1] = d[rowBytes - 2]; d[rowBytes + 2] = d[rowBytes - 1]
                    }
                }
            }
        }
        padded.withUnsafeBufferPointer { scale($0.baseAddress!, into: picture) }
    }

    private func scale(_ source: UnsafePointer<UInt8>, into picture: UnsafeMutablePointer<AVFrame>) {
        var src: [UnsafePointer<UInt8>?] = [source, nil, nil, nil]
        var srcStride: [Int32] = [Int32(paddedWidth * 3), 0, 0, 0]
        withUnsafeMutablePointer(to: &picture.pointee.data) { dataTuple in
            withUnsafeMutablePointer(to: &picture.pointee.linesize) { lineTuple in
                dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { data in
                    lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                        _ = sws_scale(sws, &src, &srcStride, 0, Int32(paddedHeight), data, lines)
                    }
                }
            }
        }
    }
}

import CFFmpeg

/// Converts decoded pictures of any pixel format to packed RGB24 with libswscale, honouring the
/// frame's colour matrix (BT.601/709/2020) and range (limited/full), then rotates for display.
final class RGBConverter {
    private var sws: OpaquePointer?
    private var key: (Int32, Int32, Int32, UInt32, UInt32) = (0, 0, -1, 0, 0)

    deinit { sws_freeContext(sws) }

    func convert(_ frame: UnsafeMutablePointer<AVFrame>, rotation: Int) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        let f = frame.pointee
        let w = Int(f.width), h = Int(f.height)
        guard w > 0, h > 0, f.format >= 0 else { throw VideoError.decodeFailed("frame", reason: "decoder returned an empty picture") }
        let newKey = (f.width, f.height, f.format, f.colorspace.rawValue, f.color_range.rawValue)
        if sws == nil || newKey != key {
            // Same size in and out: the filter only matters for chroma upsampling.
            sws = sws_getCachedContext(sws, f.width, f.height, AVPixelFormat(f.format), f.width, f.height,
                                       AV_PIX_FMT_RGB24, SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nil, nil, nil)
            guard sws != nil else {
                throw VideoError.decodeFailed("frame", reason: "cannot convert pixel format \(String(cString: av_get_pix_fmt_name(AVPixelFormat(f.format))))")
            }
            let matrix: Int32
            switch f.colorspace {
            case AVCOL_SPC_BT709: matrix = SWS_CS_ITU709
            case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: matrix = SWS_CS_BT2020
            case AVCOL_SPC_FCC: matrix = SWS_CS_FCC
            case AVCOL_SPC_SMPTE240M: matrix = SWS_CS_SMPTE240M
            default: matrix = SWS_CS_DEFAULT
            }
            let pixfmt = AVPixelFormat(f.format)
            let jpegFormats: [AVPixelFormat] = [AV_PIX_FMT_YUVJ420P, AV_PIX_FMT_YUVJ422P, AV_PIX_FMT_YUVJ444P, AV_PIX_FMT_YUVJ440P, AV_PIX_FMT_YUVJ411P]
            let fullRange: Int32 = (f.color_range == AVCOL_RANGE_JPEG || jpegFormats.contains(pixfmt)) ? 1 : 0
            // Fails harmlessly for RGB sources, which have no matrix.
            _ = sws_setColorspaceDetails(sws, sws_getCoefficients(matrix), fullRange,
                                         sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
            key = newKey
        }
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        rgb.withUnsafeMutableBufferPointer { buffer in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buffer.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(w * 3), 0, 0, 0]
            withUnsafePointer(to: frame.pointee.data) { dataTuple in
                withUnsafePointer(to: frame.pointee.linesize) { lineTuple in
                    dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { data in
                        lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                            _ = sws_scale(sws, data, lines, 0, f.height, &dst, &dstStride)
                        }
                    }
                }
            }
        }
        if rotation == 0 { return (w, h, rgb) }
        return rotate(rgb, width: w, height: h, clockwise: rotation)
    }
}

/// Rotates a packed RGB image clockwise by 90, 180 or 270 degrees.
func rotate(_ src: [UInt8], width w: Int, height h: Int, clockwise degrees: Int) -> (width: Int, height: Int, rgb: [UInt8]) {
    let ow = degrees == 180 ? w : h, oh = degrees == 180 ? h : w
    var dst = [UInt8](repeating: 0, count: w * h * 3)
    src.withUnsafeBufferPointer { s in
        dst.withUnsafeMutableBufferPointer { d in
            for y in 0..<oh {
                for x in 0..<ow {
                    // Source pixel shown at display (x, y).
                    let sx: Int, sy: Int
                    switch degrees {
                    case 90: sx = y; sy = h - 1 - x
                    case 180: sx = w - 1 - x; sy = h - 1 - y
                    default: sx = w - 1 - y; sy = x   // 270
                    }
                    let so = (sy * w + sx) * 3, o = (y * ow + x) * 3
                    d[o] = s[so]; d[o + 1] = s[so + 1]; d[o + 2] = s[so + 2]
                }
            }
        }
    }
    return (ow, oh, dst)
}

/// One decoded picture: packed 8-bit RGB, row stride `width * 3`, in display orientation.
public struct VideoFrame: Sendable {
    /// 0-based index in presentation order, counted from the start of the source (not of a range).
    public var index: Int
    /// Presentation time in seconds, relative to the stream's first timestamp.
    public var time: Double
    /// Presentation timestamp in the source stream's time base (`VideoInfo.timeBase`).
    public var pts: Int64
    public var width: Int
    public var height: Int
    /// width * height * 3 bytes, R, G, B per pixel, rows top to bottom.
    public var rgb: [UInt8]

    public init(index: Int, time: Double, pts: Int64, width: Int, height: Int, rgb: [UInt8]) {
        precondition(rgb.count == width * height * 3, "VideoFrame: rgb must hold width*height*3 bytes")
        self.index = index
        self.time = time
        self.pts = pts
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// A frame filled with one colour.
    public init(index: Int, time: Double, pts: Int64, width: Int, height: Int, fill: [UInt8] = [0, 0, 0]) {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: rgb.count, by: 3) { rgb[i] = fill[0]; rgb[i + 1] = fill[1]; rgb[i + 2] = fill[2] }
        self.init(index: index, time: time, pts: pts, width: width, height: height, rgb: rgb)
    }

    /// The RGB triple at (x, y).
    public func pixel(_ x: Int, _ y: Int) -> [UInt8] {
        let o = (y * width + x) * 3
        return [rgb[o], rgb[o + 1], rgb[o + 2]]
    }
}

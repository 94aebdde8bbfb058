import CFreeType
import Failures
import Foundation

/// Why a label font could not be used; the message names the font file.
public enum LabelFontError: UserFacingError, Equatable {
    case missing(String)
    case unreadable(String, reason: String)

    /// A missing or broken font is the user's setting to fix (exit 1).
    public var isInputProblem: Bool { true }

    public var description: String {
        switch self {
        case let .missing(p):
            return "\(p): font file not found (labels need it: install Debian's fonts-dejavu-core with `make deps`, or name another TrueType font)"
        case let .unreadable(p, r): return "\(p): not a font FreeType can read (\(r))"
        }
    }
}

/// One rasterised glyph: an 8-bit coverage bitmap placed relative to the pen on the baseline.
struct Glyph {
    let width: Int, rows: Int
    /// Bitmap's left edge right of the pen, and its top row above the baseline, in pixels.
    let left: Int, top: Int
    /// Pen advance to the next glyph, in pixels (rounded).
    let advance: Int
    let coverage: [UInt8]
}

/// A TrueType/OpenType font rasterised by FreeType at any pixel size, anti-aliased; glyphs are cached
/// per (character, size) so drawing a label costs a lookup and a blend.
public final class LabelFont: @unchecked Sendable {
    /// DejaVu Sans Bold from Debian's fonts-dejavu-core (installed by `make deps`).
    public static let defaultPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

    public let path: String
    private var library: FT_Library?
    private var face: FT_Face?
    // FreeType faces are not thread-safe: every use of `face` and the cache holds the lock.
    private let lock = NSLock()
    private var glyphs: [GlyphKey: Glyph] = [:]
    private var capHeights: [Int: Int] = [:]

    private struct GlyphKey: Hashable { let scalar: UInt32, size: Int }

    /// Opens the font file; throws LabelFontError naming `path` when it is absent or not a font.
    public init(path: String = LabelFont.defaultPath) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { throw LabelFontError.missing(path) }
        var lib: FT_Library?
        guard FT_Init_FreeType(&lib) == 0, let lib else { throw LabelFontError.unreadable(path, reason: "FreeType failed to start") }
        library = lib
        var f: FT_Face?
        let status = FT_New_Face(lib, path, 0, &f)
        guard status == 0, let f else {
            FT_Done_FreeType(lib)
            library = nil
            throw LabelFontError.unreadable(path, reason: "FreeType error \(status)")
        }
        face = f
    }

    deinit {
        if let face { FT_Done_Face(face) }
        if let library { FT_Done_FreeType(library) }
    }

    /// The glyph of `scalar` at `size` pixels per em (a blank when the font lacks it).
    func glyph(_ scalar: Unicode.Scalar, size: Int) -> Glyph {
        lock.lock(); defer { lock.unlock() }
        return unlockedGlyph(scalar, size: size)
    }

    private func unlockedGlyph(_ scalar: Unicode.Scalar, size: Int) -> Glyph {
        let key = GlyphKey(scalar: scalar.value, size: size)
        if let g = glyphs[key] { return g }
        var result = Glyph(width: 0, rows: 0, left: 0, top: 0, advance: size / 3, coverage: [])
        if let face, FT_Set_Pixel_Sizes(face, 0, FT_UInt(max(1, size))) == 0,
           FT_Load_Char(face, FT_ULong(scalar.value), pw_ft_load_render_light()) == 0, let slot = face.pointee.glyph {
            let bitmap = slot.pointee.bitmap
            let w = Int(bitmap.width), rows = Int(bitmap.rows), pitch = Int(bitmap.pitch)
            var coverage = [UInt8](repeating: 0, count: w * rows)
            if let buffer = bitmap.buffer, bitmap.pixel_mode == UInt8(FT_PIXEL_MODE_GRAY.rawValue) {
                for y in 0..<rows {
                    // A negative pitch means the rows are stored bottom-up.
                    let row = pitch >= 0 ? buffer + y * pitch : buffer + (rows - 1 - y) * (-pitch)
                    for x in 0..<w { coverage[y * w + x] = row[x] }
                }
            }
            result = Glyph(width: w, rows: rows, left: Int(slot.pointee.bitmap_left), top: Int(slot.pointee.bitmap_top),
                           advance: Int((slot.pointee.advance.x + 32) >> 6), coverage: coverage)
        }
        glyphs[key] = result
        return result
    }

    /// Height in pixels of the capital letters and digits at `size` (the ink of "H" above the baseline).
    func capHeight(size: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        if let h = capHeights[size] { return h }
        let h = max(1, unlockedGlyph("H", size: size).top)
        capHeights[size] = h
        return h
    }

    /// Width in pixels of `text` set at `size`: from the pen's start to the right edge of the ink.
    func width(_ text: String, size: Int) -> Int {
        var pen = 0, inkRight = 0
        for s in text.unicodeScalars {
            let g = glyph(s, size: size)
            if g.width > 0 { inkRight = max(inkRight, pen + g.left + g.width) }
            pen += g.advance
        }
        return inkRight > 0 ? inkRight : pen
    }
}

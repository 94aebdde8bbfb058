import XCTest
import Keypoints
@testable import Video

/// Pixel checks of SkeletonRenderer on a black frame.
final class RenderTests: XCTestCase {
    private func blank(_ w: Int = 200, _ h: Int = 160) -> VideoFrame { VideoFrame(index: 0, time: 0, pts: 0, width: w, height: h) }

    /// A COCO-17 person with every keypoint at score 0 except the ones given.
    private func person(_ points: [Int: (Double, Double, Double)], box: [Double] = [0, 0, 0, 0], id: Int? = nil) -> PersonPose {
        var k = Array(repeating: [0.0, 0.0, 0.0], count: 17)
        for (slot, p) in points { k[slot] = [p.0, p.1, p.2] }
        return PersonPose(trackID: id, bbox: box, score: 0.5, keypoints: k)
    }

    /// mmpose's fixed sizes (radius 4, links 2 px), to pin the drawing geometry independent of the frame size.
    private let noBoxes = RenderStyle(radius: 4, thickness: 2, drawBoxes: false)

    func testLimbIsDrawnBetweenItsKeypointsInThePaletteColour() throws {
        var frame = blank()
        // left shoulder (5) → left elbow (7): a left-side (green) link; right shoulder (6) → right elbow (8): orange;
        // shoulders (5)–(6): centre (blue).
        let p = person([5: (40, 40, 0.9), 7: (120, 40, 0.9), 6: (40, 100, 0.8), 8: (120, 100, 0.8)])
        try SkeletonRenderer(schema: .coco17, style: noBoxes).draw([p], on: &frame)
        XCTAssertEqual(frame.pixel(80, 40), [0, 255, 0])        // on the left upper arm
        XCTAssertEqual(frame.pixel(80, 100), [255, 128, 0])     // on the right upper arm
        XCTAssertEqual(frame.pixel(40, 70), [51, 153, 255])     // on the shoulder line
        XCTAssertEqual(frame.pixel(120, 40), [0, 255, 0])       // left elbow disc (left-side colour)
        XCTAssertEqual(frame.pixel(120, 100), [255, 128, 0])    // right elbow disc
        XCTAssertEqual(frame.pixel(80, 70), [0, 0, 0])          // between the limbs: untouched
        XCTAssertEqual(frame.pixel(160, 40), [0, 0, 0])         // past the elbow: untouched
        // Anti-aliasing: 1 px from the centre of a 2 px line is half covered; 1.5 px is not covered.
        XCTAssertEqual(frame.pixel(80, 41), [0, 128, 0])
        XCTAssertEqual(frame.pixel(80, 38), [0, 0, 0])
        // Disc radius 4: a pixel 4 px from the elbow centre (and off the arm) is half covered.
        XCTAssertEqual(frame.pixel(120, 44), [0, 128, 0])
        XCTAssertEqual(frame.pixel(120, 46), [0, 0, 0])
    }

    func testNothingBelowThreshold() throws {
        var frame = blank()
        // The elbow scores 0.29 (< 0.3): no elbow disc and no arm; the shoulder (exactly 0.3) is drawn.
        let p = person([5: (40, 40, 0.3), 7: (120, 40, 0.29)])
        try SkeletonRenderer(schema: .coco17, style: noBoxes).draw([p], on: &frame)
        XCTAssertEqual(frame.pixel(40, 40), [0, 255, 0])
        XCTAssertEqual(frame.pixel(80, 40), [0, 0, 0])
        XCTAssertEqual(frame.pixel(120, 40), [0, 0, 0])
        // Raising the threshold removes the shoulder too: the frame stays black.
        var strict = blank()
        try SkeletonRenderer(schema: .coco17, style: RenderStyle(keypointThreshold: 0.5, drawBoxes: false)).draw([p], on: &strict)
        XCTAssertTrue(strict.rgb.allSatisfy { $0 == 0 })
    }

    func testThicknessAndRadiusAreConfigurable() throws {
        var frame = blank()
        let p = person([5: (40, 40, 0.9), 7: (120, 40, 0.9)])
        try SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 10, thickness: 8, drawBoxes: false)).draw([p], on: &frame)
        XCTAssertEqual(frame.pixel(80, 43), [0, 255, 0])   // inside the 8 px line
        XCTAssertEqual(frame.pixel(80, 46), [0, 0, 0])
        XCTAssertEqual(frame.pixel(40, 49), [0, 255, 0])   // inside the 10 px disc
    }

    func testPoseTrackSchemaUsesItsOwnLinks() throws {
        var frame = blank()
        // PoseTrack18 links nose (0) to head_top (2); COCO-17 does not (it links 0–2 as nose–right eye too,
        // so use head_bottom (1) → left shoulder (5), a PoseTrack-only link).
        let p = person([1: (100, 20, 0.9), 5: (100, 100, 0.9)])
        try SkeletonRenderer(schema: .posetrack18, style: noBoxes).draw([p], on: &frame)
        XCTAssertEqual(frame.pixel(100, 60), [51, 153, 255])
        var coco = blank()
        try SkeletonRenderer(schema: .coco17, style: noBoxes).draw([p], on: &coco)
        XCTAssertEqual(coco.pixel(100, 60), [0, 0, 0])
    }

    func testKeypointsOutsideTheFrameAreClipped() throws {
        var frame = blank(50, 40)
        let p = person([5: (-100, -50, 0.9), 7: (400, 300, 0.9), 9: (.nan, 10, 0.9)], box: [-20, -20, 500, 500], id: 3)
        try SkeletonRenderer(schema: .coco17).draw([p], on: &frame)   // must not crash
        XCTAssertFalse(frame.rgb.allSatisfy { $0 == 0 })          // the arm crosses the frame
        var absurd = blank(50, 40)
        let q = person([5: (1e300, -1e300, 0.9), 7: (.infinity, 3, 0.9), 9: (10, 10, .nan)], box: [1e300, 1e300, 1e300, 1e300], id: -5)
        try SkeletonRenderer(schema: .coco17).draw([q], on: &absurd)
    }

    func testSkippingTheOutlineCoreChangesNoPixel() {
        // Outline passes skip the core their line covers fully; the result must be the unskipped one's.
        var generator = SystemRandomNumberGenerator()
        let w = 64, h = 48, canvas = Canvas(width: w, height: h)
        for trial in 0..<200 {
            let p0 = (Double.random(in: -10...74, using: &generator), Double.random(in: -10...58, using: &generator))
            let p1 = trial % 10 == 0 ? p0 : (Double.random(in: -10...74, using: &generator), Double.random(in: -10...58, using: &generator))
            let thickness = Double.random(in: 0.5...12, using: &generator), outline = Double.random(in: 0.5...4, using: &generator)
            var full = [UInt8](repeating: 90, count: w * h * 3), skipped = full
            for (buffer, skip) in [(0, false), (1, true)] {
                func draw(_ p: UnsafeMutablePointer<UInt8>) {
                    canvas.line(p, from: p0, to: p1, thickness: thickness + 2 * outline, color: [0, 0, 0],
                                skipInside: skip ? thickness / 2 - 0.5 : 0)
                    canvas.line(p, from: p0, to: p1, thickness: thickness, color: [250, 30, 120])
                }
                if buffer == 0 { full.withUnsafeMutableBufferPointer { draw($0.baseAddress!) } }
                else { skipped.withUnsafeMutableBufferPointer { draw($0.baseAddress!) } }
            }
            XCTAssertEqual(full, skipped, "trial \(trial): \(p0) → \(p1), thickness \(thickness)")
            if full != skipped { return }
        }
    }

    func testLineVisitsEveryCoveredPixel() {
        // The row-span shortcut must colour exactly the pixels a brute-force distance test colours.
        var generator = SystemRandomNumberGenerator()
        let w = 64, h = 48
        for trial in 0..<200 {
            let p0 = (Double.random(in: -10...74, using: &generator), Double.random(in: -10...58, using: &generator))
            let p1 = trial % 10 == 0 ? p0 : (Double.random(in: -10...74, using: &generator), Double.random(in: -10...58, using: &generator))
            let thickness = Double.random(in: 0.5...9, using: &generator)
            var drawn = [UInt8](repeating: 0, count: w * h * 3)
            drawn.withUnsafeMutableBufferPointer { Canvas(width: w, height: h).line($0.baseAddress!, from: p0, to: p1, thickness: thickness, color: [255, 255, 255]) }
            let dx = p1.0 - p0.0, dy = p1.1 - p0.1, l2 = dx * dx + dy * dy
            for y in 0..<h {
                for x in 0..<w {
                    let px = Double(x) - p0.0, py = Double(y) - p0.1
                    let t = l2 > 0 ? min(1, max(0, (px * dx + py * dy) / l2)) : 0
                    let d = ((px - t * dx) * (px - t * dx) + (py - t * dy) * (py - t * dy)).squareRoot()
                    let coverage = min(1, max(0, Float(thickness / 2 + 0.5 - d)))
                    let expected = coverage > 0 ? UInt8(255 * coverage + 0.5) : 0
                    XCTAssertEqual(drawn[(y * w + x) * 3], expected, "trial \(trial) pixel (\(x),\(y))")
                    if drawn[(y * w + x) * 3] != expected { return }
                }
            }
        }
    }

    // MARK: sizes from the frame

    /// Sum of one channel's coverage down column `x` (rows y0..<y1): the drawn width of a horizontal line.
    private func columnWidth(_ f: VideoFrame, x: Int, rows: Range<Int>, channel: Int = 1) -> Double {
        rows.reduce(0.0) { $0 + Double(f.rgb[($1 * f.width + x) * 3 + channel]) / 255 }
    }

    func testLineWidthsFollowTheFrameSize() throws {
        // The unit is max(2, (w + h) / 2 × 0.003): 2 px at 240p, 3 px at 720p, 9 px at 2160p.
        for (w, h, unit) in [(426, 240, 2.0), (1280, 720, 3.0), (3840, 2160, 9.0)] {
            XCTAssertEqual(RenderSizes(width: w, height: h).lineWidth, unit, accuracy: 1e-9)
            var frame = blank(w, h)
            let y = Double(h) / 2
            // A left upper arm (green) across the middle, no box; the outline is black on black.
            let p = person([5: (Double(w) * 0.1, y, 0.9), 7: (Double(w) * 0.9, y, 0.9)])
            try SkeletonRenderer(schema: .coco17, style: RenderStyle(drawBoxes: false)).draw([p], on: &frame)
            let drawn = columnWidth(frame, x: w / 2, rows: Int(y) - 40..<Int(y) + 40)
            XCTAssertEqual(drawn, unit, accuracy: 1, "\(w)x\(h): link width")
            XCTAssertEqual(drawn, unit, accuracy: 0.1, "\(w)x\(h): anti-aliased coverage sums to the width")
            // The disc is 1.5 units in radius: its vertical extent through the centre.
            let disc = columnWidth(frame, x: Int(Double(w) * 0.9), rows: Int(y) - 40..<Int(y) + 40)
            XCTAssertEqual(disc, 3 * unit, accuracy: 1, "\(w)x\(h): disc diameter")
            // The box line is one unit wide too (a vertical edge, measured along a row).
            var boxed = blank(w, h)
            let box = person([:], box: [Double(w) * 0.25, Double(h) * 0.25, Double(w) * 0.5, Double(h) * 0.5], id: 1)
            let renderer = try SkeletonRenderer(schema: .coco17, style: RenderStyle(label: .none))
            renderer.draw([box], on: &boxed)
            let color = renderer.boxColor(for: box)
            let x0 = Int(Double(w) * 0.25), row = Int(Double(h) * 0.5)
            let edge = (x0 - 20..<x0 + 20).reduce(0.0) { $0 + Double(boxed.pixel($1, row)[0]) / Double(color[0]) }
            XCTAssertEqual(edge, unit, accuracy: 1, "\(w)x\(h): box width")
        }
    }

    func testExplicitSizesWinOverTheFrameSize() throws {
        var frame = blank(3840, 2160)
        let p = person([5: (400, 1000, 0.9), 7: (3400, 1000, 0.9)])
        try SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 5, thickness: 4, drawBoxes: false)).draw([p], on: &frame)
        XCTAssertEqual(columnWidth(frame, x: 1900, rows: 960..<1040), 4, accuracy: 0.1)
        XCTAssertEqual(columnWidth(frame, x: 3400, rows: 960..<1040), 10, accuracy: 1)
    }

    // MARK: outlines

    func testEveryPartHasADarkOutline() throws {
        let gray: [UInt8] = [128, 128, 128]
        func render(_ outline: Bool) throws -> VideoFrame {
            var frame = VideoFrame(index: 0, time: 0, pts: 0, width: 200, height: 160, fill: gray)
            let p = person([5: (40, 40, 0.9), 7: (120, 40, 0.9)], box: [60, 80, 80, 50], id: 3)
            try SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 6, thickness: 4, outline: outline)).draw([p], on: &frame)
            return frame
        }
        let with = try render(true), without = try render(false)
        // 3 px from the link's centre: past the 4 px link, inside its 1 px outline (200×160 frame: outline 1 px).
        XCTAssertTrue(with.pixel(80, 43).allSatisfy { $0 < 80 }, "link outline \(with.pixel(80, 43))")
        XCTAssertEqual(without.pixel(80, 43), gray)
        // Disc: 6.5 px right of the elbow, beyond the link's round cap.
        XCTAssertTrue(with.pixel(127, 40).allSatisfy { $0 < 80 }, "disc outline \(with.pixel(127, 40))")
        XCTAssertEqual(without.pixel(127, 40), gray)
        // Box: its bottom edge (y 130, 2 px wide) has a dark band at y 132.
        XCTAssertTrue(with.pixel(100, 132).allSatisfy { $0 < 80 }, "box outline \(with.pixel(100, 132))")
        XCTAssertEqual(without.pixel(100, 132), gray)
        // Label: the column left of its fill, above the box, is dark.
        let labelRow = 70
        XCTAssertNotEqual(with.pixel(60, labelRow), gray)
        XCTAssertTrue(with.pixel(58, labelRow).allSatisfy { $0 < 10 }, "label outline \(with.pixel(58, labelRow))")
        XCTAssertEqual(without.pixel(58, labelRow), gray)
    }

    // MARK: labels

    private func luminance(_ p: [UInt8]) -> Double { 0.299 * Double(p[0]) + 0.587 * Double(p[1]) + 0.114 * Double(p[2]) }

    /// The label's fill (pixels of exactly the box colour, above the box) and the ink inside it:
    /// pixels whose luminance differs from the fill's by more than 96, and their brightness.
    private func labelGeometry(width w: Int, height h: Int, label: RenderStyle.Label = .id, fill: [UInt8]? = nil) throws
        -> (height: Int, width: Int, ink: Int, inkColumnRuns: Int, inkIsLight: Bool) {
        var frame = blank(w, h)
        let p = person([:], box: [Double(w) * 0.3, Double(h) * 0.5, Double(w) * 0.2, Double(h) * 0.4], id: 7)
        let renderer = try SkeletonRenderer(schema: .coco17, style: RenderStyle(label: label, boxColor: fill))
        renderer.draw([p], on: &frame)
        let color = renderer.boxColor(for: p)
        var x0 = Int.max, x1 = -1, y0 = Int.max, y1 = -1
        // Rows above the box line (one unit wide, centred on the box's top, anti-aliased over half a pixel more).
        let lineTop = Double(h) / 2 - RenderSizes.unit(width: w, height: h) / 2 - 0.5
        for y in 0..<Int(lineTop.rounded(.down)) {
            for x in 0..<w where frame.pixel(x, y) == color {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        guard x1 >= 0 else { return (0, 0, 0, 0, false) }
        var ink = 0, runs = 0, previous = false, light = 0
        for x in x0...x1 {
            var column = false
            for y in y0...y1 where abs(luminance(frame.pixel(x, y)) - luminance(color)) > 96 {
                ink += 1
                column = true
                if luminance(frame.pixel(x, y)) > luminance(color) { light += 1 }
            }
            if column && !previous { runs += 1 }
            previous = column
        }
        return (y1 - y0 + 1, x1 - x0 + 1, ink, runs, light * 2 > ink)
    }

    func testLabelTextScalesWithTheFrameAndStaysLegible() throws {
        let hd = try labelGeometry(width: 1280, height: 720)
        let uhd = try labelGeometry(width: 3840, height: 2160)
        // Three times the frame: three times the label height (one px of rounding per side) …
        XCTAssertEqual(Double(uhd.height), 3 * Double(hd.height), accuracy: 4, "label heights \(hd.height) / \(uhd.height)")
        XCTAssertEqual(Double(uhd.width), 3 * Double(hd.width), accuracy: 8, "label widths \(hd.width) / \(uhd.width)")
        XCTAssertGreaterThanOrEqual(hd.height, 18)
        // … and about nine times the ink, in three separate glyphs ("I", "D", "7") at both sizes.
        let inkRatio = Double(uhd.ink) / Double(hd.ink)
        XCTAssertTrue((7.5...10.5).contains(inkRatio), "ink \(hd.ink) → \(uhd.ink)")
        XCTAssertEqual(hd.inkColumnRuns, 3)
        XCTAssertEqual(uhd.inkColumnRuns, 3)
        // At 240p the label stays a few per cent of the frame, and readable (at least 10 px tall).
        let small = try labelGeometry(width: 426, height: 240)
        XCTAssertTrue((10...20).contains(small.height), "240p label height \(small.height)")
        XCTAssertEqual(small.inkColumnRuns, 3)
    }

    func testLabelTextIsConfigurable() throws {
        let id = try labelGeometry(width: 1280, height: 720, label: .id)
        let score = try labelGeometry(width: 1280, height: 720, label: .idScore)
        let none = try labelGeometry(width: 1280, height: 720, label: .none)
        // "7 0.50": a digit, a space and four glyphs: "7", "0", ".", "50" → at least four ink runs, wider than "ID 7".
        XCTAssertGreaterThan(score.width, id.width)
        XCTAssertGreaterThanOrEqual(score.inkColumnRuns, 4)
        XCTAssertEqual(none.width, 0)
        let renderer = try SkeletonRenderer(schema: .coco17, style: RenderStyle(label: .idScore))
        XCTAssertEqual(renderer.labelText(for: person([:], id: 3)), "3 0.50")
        XCTAssertEqual(renderer.labelText(for: person([:])), "0.50")
        XCTAssertEqual(try SkeletonRenderer(schema: .coco17).labelText(for: person([:], id: 3)), "ID 3")
        XCTAssertNil(try SkeletonRenderer(schema: .coco17).labelText(for: person([:])))
    }

    func testLabelTextContrastsWithItsBox() throws {
        // A dark box colour gets white text, a light one black text; the palette's magenta (id 7) white.
        let dark = try labelGeometry(width: 640, height: 360, fill: [0, 0, 128])
        let light = try labelGeometry(width: 640, height: 360, fill: [255, 255, 0])
        let palette = try labelGeometry(width: 640, height: 360)
        XCTAssertGreaterThan(dark.ink, 30)
        XCTAssertTrue(dark.inkIsLight)
        XCTAssertGreaterThan(light.ink, 30)
        XCTAssertFalse(light.inkIsLight)
        XCTAssertTrue(palette.inkIsLight)
    }

    func testAMissingFontIsAnErrorNamingIt() throws {
        XCTAssertThrowsError(try SkeletonRenderer(schema: .coco17, style: RenderStyle(fontPath: "/nonexistent/Font.ttf"))) { e in
            XCTAssertEqual(e as? LabelFontError, .missing("/nonexistent/Font.ttf"))
            XCTAssertTrue("\(e)".contains("/nonexistent/Font.ttf"))
        }
        // Not a font at all.
        let notFont = NSTemporaryDirectory() + "posewarper-not-a-font-\(ProcessInfo.processInfo.processIdentifier).ttf"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notFont))
        defer { try? FileManager.default.removeItem(atPath: notFont) }
        XCTAssertThrowsError(try SkeletonRenderer(schema: .coco17, style: RenderStyle(fontPath: notFont))) { e in
            XCTAssertTrue("\(e)".contains(notFont), "\(e)")
        }
        // Without labels no font is needed.
        XCTAssertNoThrow(try SkeletonRenderer(schema: .coco17, style: RenderStyle(label: .none, fontPath: "/nonexistent/Font.ttf")))
        XCTAssertNoThrow(try SkeletonRenderer(schema: .coco17, style: RenderStyle(drawBoxes: false, fontPath: "/nonexistent/Font.ttf")))
    }

    // MARK: colours

    func testColorByTrackGivesEachTrackItsOwnStableColour() throws {
        let style = RenderStyle(radius: 4, thickness: 4, drawBoxes: false, colorBy: .track)
        let renderer = try SkeletonRenderer(schema: .coco17, style: style)
        func arms(_ idTop: Int?, _ idBottom: Int?) -> VideoFrame {
            var frame = blank()
            renderer.draw([person([5: (40, 40, 0.9), 7: (120, 40, 0.9)], id: idTop),
                           person([5: (40, 100, 0.9), 7: (120, 100, 0.9)], id: idBottom)], on: &frame)
            return frame
        }
        let first = arms(1, 2), second = arms(2, 1)
        XCTAssertEqual(first.pixel(80, 40), SkeletonRenderer.trackColor(1))
        XCTAssertEqual(first.pixel(80, 100), SkeletonRenderer.trackColor(2))
        XCTAssertNotEqual(first.pixel(80, 40), first.pixel(80, 100))
        // The colour follows the track, not the position or the order.
        XCTAssertEqual(second.pixel(80, 100), first.pixel(80, 40))
        XCTAssertEqual(second.pixel(80, 40), first.pixel(80, 100))
        // Untracked persons keep the part palette; so does everyone under the default.
        XCTAssertEqual(arms(nil, 2).pixel(80, 40), [0, 255, 0])
        var part = blank()
        try SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 4, thickness: 4, drawBoxes: false))
            .draw([person([5: (40, 40, 0.9), 7: (120, 40, 0.9)], id: 1), person([5: (40, 100, 0.9), 7: (120, 100, 0.9)], id: 2)], on: &part)
        XCTAssertEqual(part.pixel(80, 40), [0, 255, 0])
        XCTAssertEqual(part.pixel(80, 100), [0, 255, 0])
    }

    func testShowLowDrawsUnsureKeypointsHollow() throws {
        let p = person([5: (100, 80, 0.2), 7: (40, 40, 0.0)])
        var hidden = blank(), hollow = blank()
        try SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 6, thickness: 4, drawBoxes: false)).draw([p], on: &hidden)
        try SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 6, thickness: 4, drawBoxes: false, showLow: true)).draw([p], on: &hollow)
        XCTAssertTrue(hidden.rgb.allSatisfy { $0 == 0 })
        // A ring of radius 5, 2 px wide: coloured on the ring, empty in the middle.
        XCTAssertEqual(hollow.pixel(105, 80), [0, 255, 0])
        XCTAssertEqual(hollow.pixel(100, 75), [0, 255, 0])
        XCTAssertEqual(hollow.pixel(100, 80), [0, 0, 0])
        XCTAssertEqual(hollow.pixel(102, 80), [0, 0, 0])
        // Score 0 means absent: nothing at the elbow.
        XCTAssertEqual(hollow.pixel(40, 40), [0, 0, 0])
        XCTAssertEqual(hollow.pixel(45, 40), [0, 0, 0])
    }

    // MARK: motion trails

    func testTrailsFadeBehindAJointAndVanishNFramesAfterIt() throws {
        let renderer = try SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 2, thickness: 2, drawBoxes: false, trails: 3))
        let trails = MotionTrails(length: 3)
        // A left wrist (green) moving 20 px right per frame on frames 0…3, then gone.
        func wrist(_ frame: Int, id: Int? = 5) -> PersonPose { person([9: (20 + 20 * Double(frame), 50, 0.9)], id: id) }
        var frames: [VideoFrame] = []
        for i in 0..<8 {
            let persons = i <= 3 ? [wrist(i)] : []
            trails.record(frame: i, persons: persons)
            var f = blank(120, 100)
            f.index = i
            renderer.draw(persons, on: &f, trails: trails)
            frames.append(f)
        }
        // Frame 3: segments 20→40 (oldest), 40→60, 60→80 (newest), each fainter with age.
        let green = { (f: VideoFrame, x: Int) in Int(f.pixel(x, 50)[1]) }
        XCTAssertGreaterThan(green(frames[3], 70), green(frames[3], 50))
        XCTAssertGreaterThan(green(frames[3], 50), green(frames[3], 30))
        XCTAssertGreaterThan(green(frames[3], 30), 0)
        XCTAssertEqual(green(frames[3], 10), 0)   // nothing before the first position
        // Where two segments meet the stronger one shows, not both blended on top of each other (no beads).
        XCTAssertEqual(green(frames[3], 60), green(frames[3], 70))
        // Frame 1: only 20→40.
        XCTAssertGreaterThan(green(frames[1], 30), 0)
        XCTAssertEqual(green(frames[1], 50), 0)
        // After the wrist leaves (last seen on frame 3) the trail fades on frames 4 and 5 and is gone on 6.
        XCTAssertGreaterThan(green(frames[4], 70), 0)
        XCTAssertEqual(green(frames[4], 30), 0)
        XCTAssertGreaterThan(green(frames[5], 70), 0)
        XCTAssertLessThan(green(frames[5], 70), green(frames[4], 70))
        for f in frames[6...] { XCTAssertTrue(f.rgb.allSatisfy { $0 == 0 }, "frame \(f.index)") }
        // No trail for untracked persons (nothing links them across frames).
        let untracked = MotionTrails(length: 3)
        for i in 0..<3 { untracked.record(frame: i, persons: [wrist(i, id: nil)]) }
        XCTAssertTrue(untracked.paths(threshold: 0.3).isEmpty)
    }

    func testTrailsSkipLowScoresAndRestartWhenFramesGoBackwards() {
        let trails = MotionTrails(length: 5)
        func at(_ x: Double, _ score: Double) -> PersonPose { person([9: (x, 10, score)], id: 1) }
        trails.record(frame: 0, persons: [at(0, 0.9)])
        trails.record(frame: 1, persons: [at(10, 0.1)])
        trails.record(frame: 2, persons: [at(20, 0.9)])
        let paths = trails.paths(threshold: 0.3)
        XCTAssertEqual(paths.count, 1)
        XCTAssertEqual(paths[0].joint, 9)
        XCTAssertEqual(paths[0].points.map(\.x), [0, 20])
        trails.record(frame: 0, persons: [at(50, 0.9)])
        XCTAssertTrue(trails.paths(threshold: 0.3).isEmpty)
    }
}

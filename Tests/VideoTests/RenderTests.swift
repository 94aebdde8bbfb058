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

    private let noBoxes = RenderStyle(drawBoxes: false)

    func testLimbIsDrawnBetweenItsKeypointsInThePaletteColour() {
        var frame = blank()
        // left shoulder (5) → left elbow (7): a left-side (green) link; right shoulder (6) → right elbow (8): orange;
        // shoulders (5)–(6): centre (blue).
        let p = person([5: (40, 40, 0.9), 7: (120, 40, 0.9), 6: (40, 100, 0.8), 8: (120, 100, 0.8)])
        SkeletonRenderer(schema: .coco17, style: noBoxes).draw([p], on: &frame)
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

    func testNothingBelowThreshold() {
        var frame = blank()
        // The elbow scores 0.29 (< 0.3): no elbow disc and no arm; the shoulder (exactly 0.3) is drawn.
        let p = person([5: (40, 40, 0.3), 7: (120, 40, 0.29)])
        SkeletonRenderer(schema: .coco17, style: noBoxes).draw([p], on: &frame)
        XCTAssertEqual(frame.pixel(40, 40), [0, 255, 0])
        XCTAssertEqual(frame.pixel(80, 40), [0, 0, 0])
        XCTAssertEqual(frame.pixel(120, 40), [0, 0, 0])
        // Raising the threshold removes the shoulder too: the frame stays black.
        var strict = blank()
        SkeletonRenderer(schema: .coco17, style: RenderStyle(keypointThreshold: 0.5, drawBoxes: false)).draw([p], on: &strict)
        XCTAssertTrue(strict.rgb.allSatisfy { $0 == 0 })
    }

    func testThicknessAndRadiusAreConfigurable() {
        var frame = blank()
        let p = person([5: (40, 40, 0.9), 7: (120, 40, 0.9)])
        SkeletonRenderer(schema: .coco17, style: RenderStyle(radius: 10, thickness: 8, drawBoxes: false)).draw([p], on: &frame)
        XCTAssertEqual(frame.pixel(80, 43), [0, 255, 0])   // inside the 8 px line
        XCTAssertEqual(frame.pixel(80, 46), [0, 0, 0])
        XCTAssertEqual(frame.pixel(40, 49), [0, 255, 0])   // inside the 10 px disc
    }

    func testPoseTrackSchemaUsesItsOwnLinks() {
        var frame = blank()
        // PoseTrack18 links nose (0) to head_top (2); COCO-17 does not (it links 0–2 as nose–right eye too,
        // so use head_bottom (1) → left shoulder (5), a PoseTrack-only link).
        let p = person([1: (100, 20, 0.9), 5: (100, 100, 0.9)])
        SkeletonRenderer(schema: .posetrack18, style: noBoxes).draw([p], on: &frame)
        XCTAssertEqual(frame.pixel(100, 60), [51, 153, 255])
        var coco = blank()
        SkeletonRenderer(schema: .coco17, style: noBoxes).draw([p], on: &coco)
        XCTAssertEqual(coco.pixel(100, 60), [0, 0, 0])
    }

    func testBoxesAndTrackLabels() {
        var frame = blank()
        let tracked = person([:], box: [100, 60, 40, 50], id: 7)
        let untracked = person([:], box: [10, 10, 30, 30])
        let renderer = SkeletonRenderer(schema: .coco17)
        renderer.draw([tracked, untracked], on: &frame)
        let color7 = renderer.boxColor(for: tracked)
        XCTAssertEqual(frame.pixel(120, 60), color7)          // top edge
        XCTAssertEqual(frame.pixel(140, 90), color7)          // right edge
        XCTAssertEqual(frame.pixel(120, 85), [0, 0, 0])       // inside: empty
        XCTAssertEqual(frame.pixel(25, 40), [0, 255, 0])      // untracked: green (mmpose's bbox colour)
        // "ID 7" label above the box: background in the box colour, glyph pixels in a contrasting colour.
        let scale = 2
        let labelHeight = 7 * scale + 2 * scale, labelWidth = BitmapFont.width("ID 7", scale: scale) + 2 * scale
        var glyphPixels = 0, backgroundPixels = 0
        for y in (60 - labelHeight)..<60 {
            for x in 100..<(100 + labelWidth) {
                let p = frame.pixel(x, y)
                if p == color7 { backgroundPixels += 1 } else { glyphPixels += 1 }
            }
        }
        let bits = "ID 7".compactMap { BitmapFont.glyph($0) }.flatMap { $0 }.map { $0.nonzeroBitCount }.reduce(0, +)
        XCTAssertEqual(glyphPixels, bits * scale * scale)
        XCTAssertEqual(glyphPixels + backgroundPixels, labelWidth * labelHeight)
        // The "I" glyph's top bar starts one font pixel in: row 0 of "I" is 01110.
        XCTAssertNotEqual(frame.pixel(100 + scale + scale, 60 - labelHeight + scale), color7)
        XCTAssertEqual(frame.pixel(100 + scale, 60 - labelHeight + scale), color7)
    }

    func testKeypointsOutsideTheFrameAreClipped() {
        var frame = blank(50, 40)
        let p = person([5: (-100, -50, 0.9), 7: (400, 300, 0.9), 9: (.nan, 10, 0.9)], box: [-20, -20, 500, 500], id: 3)
        SkeletonRenderer(schema: .coco17).draw([p], on: &frame)   // must not crash
        XCTAssertFalse(frame.rgb.allSatisfy { $0 == 0 })          // the arm crosses the frame
        var absurd = blank(50, 40)
        let q = person([5: (1e300, -1e300, 0.9), 7: (.infinity, 3, 0.9), 9: (10, 10, .nan)], box: [1e300, 1e300, 1e300, 1e300], id: -5)
        SkeletonRenderer(schema: .coco17).draw([q], on: &absurd)
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
}

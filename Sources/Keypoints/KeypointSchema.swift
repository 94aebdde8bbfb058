/// The meaning of a model's keypoint slots: names, skeleton links, flip pairs and mmpose's drawing palette.
public struct KeypointSchema: Sendable, Equatable, Codable {
    /// An RGB colour.
    public typealias RGB = [UInt8]

    /// Short identifier used in pipeline files and stream headers ("coco17", "posetrack18").
    public let name: String
    /// Keypoint names in slot order.
    public let keypoints: [String]
    /// Skeleton links as pairs of 0-based slot indices, in mmpose's `skeleton_info` order.
    public let skeleton: [[Int]]
    /// Left/right slot pairs swapped by a horizontal flip.
    public let flipPairs: [[Int]]
    /// Colour of each keypoint (mmpose `keypoint_info` colours).
    public let keypointColors: [RGB]
    /// Colour of each skeleton link (mmpose `skeleton_info` colours).
    public let linkColors: [RGB]
    /// Slots that carry labels and are evaluated (PoseTrack18 leaves the ears out).
    public let evaluated: [Int]

    /// The schemas the product knows, by name.
    public static let all: [KeypointSchema] = [.coco17, .posetrack18]

    /// The schema with this name, or nil.
    public static func named(_ name: String) -> KeypointSchema? {
        all.first { $0.name == name.lowercased() }
    }

    static let blue: RGB = [51, 153, 255]
    static let green: RGB = [0, 255, 0]
    static let orange: RGB = [255, 128, 0]

    // The body below the head is shared by COCO-17 and PoseTrack18 (slots 5…16 and their links 0…11).
    private static let bodyNames = [
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ]
    private static let bodyLinks: [[Int]] = [
        [15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7], [6, 8], [7, 9], [8, 10],
    ]
    private static let bodyLinkColors: [RGB] = [
        green, green, orange, orange, blue, blue, blue, blue, green, orange, green, orange,
    ]
    private static let bodyKeypointColors: [RGB] = (0..<12).map { $0 % 2 == 0 ? green : orange }

    /// COCO-17 as mmpose 0.x `configs/_base_/datasets/coco.py`.
    public static let coco17 = KeypointSchema(
        name: "coco17",
        keypoints: ["nose", "left_eye", "right_eye", "left_ear", "right_ear"] + bodyNames,
        skeleton: bodyLinks + [[1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6]],
        flipPairs: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]],
        keypointColors: Array(repeating: blue, count: 5) + bodyKeypointColors,
        linkColors: bodyLinkColors + Array(repeating: blue, count: 7),
        evaluated: Array(0..<17)
    )

    /// PoseTrack18 as mmpose 0.x `configs/_base_/datasets/posetrack18.py`: slots 1 and 2 are
    /// head_bottom and head_top (not eyes), so they are not a flip pair; the ears are unlabelled.
    public static let posetrack18 = KeypointSchema(
        name: "posetrack18",
        keypoints: ["nose", "head_bottom", "head_top", "left_ear", "right_ear"] + bodyNames,
        skeleton: bodyLinks + [[0, 1], [0, 2], [1, 5], [1, 6]],
        flipPairs: [[3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16]],
        keypointColors: Array(repeating: blue, count: 5) + bodyKeypointColors,
        linkColors: bodyLinkColors + Array(repeating: blue, count: 4),
        evaluated: [0, 1, 2] + Array(5..<17)
    )
}

import Models
import Video

/// The person-boxes stage backed by a YOLOX / RTMDet network: boxes in frame pixels, best first.
public final class DetectorPersons: PersonDetector, @unchecked Sendable {   // immutable; the model is thread-safe
    public let model: DetectorModel
    public let settings: DetectorSettings

    public init(model: DetectorModel, settings: DetectorSettings) {
        self.model = model
        self.settings = settings
    }

    /// Loads `weights` and applies `section`'s settings over the family's defaults.
    public convenience init(weights: String, section: DetectorSection = DetectorSection()) throws {
        let model = try DetectorModel.load(weights: weights)
        self.init(model: model, settings: try section.settings(for: model.description))
    }

    public func boxes(in frame: VideoFrame) throws -> [PersonBox] {
        model.detectPersons(rgb: frame.rgb, width: frame.width, height: frame.height, settings: settings).map {
            PersonBox(x: Double($0.x1), y: Double($0.y1), width: Double($0.width), height: Double($0.height), score: Double($0.score))
        }
    }
}

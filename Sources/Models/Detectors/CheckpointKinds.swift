/// Refusing a detector checkpoint where a pose model is expected, with an error that says what the
/// file is (the registry, `ModelFamilies.identify`, decides).
extension PoseModel {
    /// The error for a detector checkpoint given where a pose model is expected, or nil when it is not one.
    static func notAPoseModel(_ names: [String], file: String) -> ModelError? {
        guard case let .detector(family, _)? = ModelFamilies.identify(names) else { return nil }
        return ModelError("\(file): this is \(family.title) checkpoint, not a pose model (use it as the detector: --detector / persons.detector)")
    }
}

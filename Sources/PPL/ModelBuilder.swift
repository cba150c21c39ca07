/// What a model body builds: nothing but its effects (every site goes through the handler
/// stack as it runs), so any statement a result builder accepts may appear in a model.
public struct ModelOutput {
    public init() {}
}

/// The result builder of model bodies: `let` bindings, `if`/`else`, `switch`, `for` loops,
/// calls to helper functions and sub-models, and sites written `latent(name) ~ distribution`.
@resultBuilder
public enum ModelBuilder {
    public static func buildExpression<Value>(_ value: Value) -> ModelOutput { ModelOutput() }
    public static func buildBlock(_ parts: ModelOutput...) -> ModelOutput { ModelOutput() }
    public static func buildOptional(_ part: ModelOutput?) -> ModelOutput { ModelOutput() }
    public static func buildEither(first: ModelOutput) -> ModelOutput { first }
    public static func buildEither(second: ModelOutput) -> ModelOutput { second }
    public static func buildArray(_ parts: [ModelOutput]) -> ModelOutput { ModelOutput() }
    public static func buildLimitedAvailability(_ part: ModelOutput) -> ModelOutput { part }
}

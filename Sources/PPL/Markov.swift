import TensorCore

/// Runs `body` for the steps `0..<steps` of a Markov chain: the sites of step `t` depend on
/// those of at most the `history` steps before it (the hidden states of a hidden Markov model).
///
/// Enumeration reuses the dimensions of steps more than `history` back, so that summing a
/// chain of `T` discrete states out costs time linear in `T` (Pyro's `markov`):
///
/// ```swift
/// var state = Tensor(0)
/// markov("time", steps: 100) { t in
///     state = latent("state \(t)") ~ Categorical(probs: transition[state])
///     observe("x \(t)", x.slice(axis: 1, t..<(t + 1)).reshaped(to: [-1])) ~ Normal(levels[state], 1)
/// }
/// ```
public func markov(
    _ chain: String, steps: Int, history: Int = 1,
    file: StaticString = #fileID, line: UInt = #line,
    @ModelBuilder _ body: (Int) -> ModelOutput
) {
    guard steps >= 0, history >= 1 else {
        recordDeferredError(ModelError.badChain(chain: chain, reason: "it needs steps >= 0 and history >= 1, got steps \(steps) and history \(history)", location: SourceLocation(file: file, line: line)))
        return
    }
    for step in 0..<steps {
        _ = MarkovHandler(MarkovStep(chain: chain, step: step, history: history)).run { body(step) }
    }
}

/// The handler behind `markov`: tags every site inside with its chain step.
final class MarkovHandler: Handler {
    let step: MarkovStep

    init(_ step: MarkovStep) { self.step = step }

    func process(_ message: inout Message) {
        if message.markovStep == nil { message.markovStep = step }
    }
}

import Latent

/// What the figures training reports as "ELBO" are under the settings of a run: the ELBO only
/// when no setting changes it. A beta other than 1 (or a warm-up) weighs the latent terms, so
/// the training figure is no bound on log p(x) while beta is not 1; a point estimate z* turns
/// both figures into log p(x, z*) (the training one into log p(x | z*) with beta 0), which is no
/// bound either.
struct ReportedObjective {
    let beta: Float
    let warmUpEpochs: Int
    let importanceSamples: Int?
    let pointSites: [String]

    init(options: TrainingOptions, compilerOptions: CompilerOptions) {
        beta = options.beta
        warmUpEpochs = options.warmUpEpochs
        if case let .importanceWeighted(k) = options.objective { importanceSamples = k } else { importanceSamples = nil }
        pointSites = compilerOptions.pointEstimates.sorted()
    }

    /// Whether epoch `epoch` (from 1) weighs the ELBO's latent terms by a beta other than 1.
    func isWeighted(epoch: Int) -> Bool { beta != 1 || epoch <= warmUpEpochs }

    /// The name of epoch `epoch`'s training figure in the JSON summary.
    func name(epoch: Int) -> String {
        if !pointSites.isEmpty { return beta == 0 ? "log likelihood at point estimates" : "log joint at point estimates" }
        if let k = importanceSamples { return "importance-weighted bound, k = \(k)" }
        return isWeighted(epoch: epoch) ? "beta-weighted elbo" : "elbo"
    }

    /// Whether every figure of the run is the ELBO.
    var isPlainELBO: Bool { pointSites.isEmpty && importanceSamples == nil && !isWeighted(epoch: 1) }

    /// What epoch `epoch`'s training figure is, in a word or three.
    func trainFigure(epoch: Int) -> String {
        if !pointSites.isEmpty { return "objective" }
        if let k = importanceSamples { return "IWAE bound (k = \(k))" }
        return isWeighted(epoch: epoch) ? "objective" : "ELBO"
    }

    /// What the held-out figure is: the ELBO with beta 1, but for point estimates.
    var heldOutFigure: String { pointSites.isEmpty ? "ELBO" : "objective" }

    /// One line saying what the figures are, when they are not what their names usually mean.
    var note: String? {
        if !pointSites.isEmpty {
            let names = pointSites.map { "'\($0)'" }.joined(separator: ", ")
            let figures = beta == 0 ? "the training figure holds log p(x | z) and the held-out figure log p(x, z)" : "the training and held-out figures hold log p(x, z)"
            return "\(names) \(pointSites.count == 1 ? "is a point estimate" : "are point estimates"), so \(figures) at the point, not an expectation under q: neither is the ELBO or a bound on log p(x)"
        }
        if importanceSamples != nil || (beta == 1 && warmUpEpochs == 0) { return nil }
        let epochs = "\(warmUpEpochs) epoch\(warmUpEpochs == 1 ? "" : "s")"
        let weighting = warmUpEpochs == 0 ? "by beta \(beta), so it is not the ELBO or a bound on log p(x)"
            : beta == 1 ? "by a beta rising from 0 to 1 over the first \(epochs), so until then it is not the ELBO or a bound on log p(x)"
            : "by a beta rising from 0 to \(beta) over the first \(epochs), so it is not the ELBO or a bound on log p(x)"
        return "the training objective weighs the latent terms \(weighting); the held-out figure is the ELBO"
    }
}

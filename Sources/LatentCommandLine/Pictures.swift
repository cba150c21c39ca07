import Foundation
import Latent

/// Pictures of a trained image model: what its decoder makes of given latent values.
struct Pictures {
    let inference: Amortized<Tensor>
    let dataSize: Int
    let imageShape: [Int]
    /// Draw dark on light (binary digits) rather than grey levels as they are.
    var invert = false

    /// The means of the observed site with the first latent site fixed to the rows of `z`.
    func decoderMeans(_ z: Tensor) throws -> Tensor { try decoder(z).mean }

    /// The observed site's distribution with the first latent site fixed to the rows of `z`.
    func decoder(_ z: Tensor) throws -> any Distribution {
        let placeholder = Tensor.zeros([z.shape[0], dataSize])
        let prototype = try inference.model.trace(placeholder, z.shape[0], parameters: inference.parameters, seed: 0)
        guard let latentName = prototype.latentSites.first?.name, let observedName = prototype.observedSites.first?.name else {
            throw UsageError("model '\(inference.model.name)' has no latent and observed site to draw")
        }
        let recorder = TraceHandler()
        try withoutGradient {
            try inference.model.run(placeholder, z.shape[0], handlers: [recorder, inference.parameters, ConditionHandler([latentName: z])])
        }
        guard let distribution = recorder.trace[observedName]?.distribution else { throw UsageError("model '\(inference.model.name)' has no observed site to draw") }
        return distribution
    }

    /// The observed site's means for `count` draws of the prior, one row each.
    func sampleMeans(_ count: Int, seed: UInt64) throws -> Tensor {
        let placeholder = Tensor.zeros([count, dataSize])
        let recorder = TraceHandler()
        try withoutGradient {
            try inference.model.run(placeholder, count, handlers: [recorder, inference.parameters, SeedHandler(seed: seed)])
        }
        guard let observed = recorder.trace.observedSites.first?.distribution else { throw UsageError("model '\(inference.model.name)' has no observed site to draw") }
        return observed.mean
    }

    /// `count` images decoded from draws of the prior (the observed site's mean given them).
    func samples(_ count: Int, seed: UInt64) throws -> PNGImage {
        PNGImage.grid(try sampleMeans(count, seed: seed), imageShape: imageShape, columns: Int(Double(count).squareRoot().rounded(.up)), invert: invert)
    }

    /// The decoder's means at the guide's mean for each of `images` (its most probable value
    /// for a discrete latent, whose mean is no value of the site).
    func reconstructionMeans(_ images: Tensor) throws -> Tensor {
        guard let q = try inference.posterior(images).values.first else { throw UsageError("the guide has no latent site") }
        return try decoderMeans(Self.mostProbableValue(q) ?? q.mean)
    }

    /// For a distribution with finite support, argmax_v q(v) per batch element (shaped
    /// batch + event); nil for one without.
    static func mostProbableValue(_ q: any Distribution) -> Tensor? {
        guard let support = q.enumerateSupport(), support.shape[0] > 0 else { return nil }
        let k = support.shape[0]
        let batch = q.batchShape.reduce(1, *), event = q.eventShape.reduce(1, *)
        guard support.count == k * event else { return nil }
        let logProbs = q.logProb(support).expanded(to: [k] + q.batchShape).scalars
        let values = support.scalars
        var chosen = [Float](repeating: 0, count: batch * event)
        for element in 0..<batch {
            let best = (0..<k).max { logProbs[$0 * batch + element] < logProbs[$1 * batch + element] } ?? 0
            for position in 0..<event { chosen[element * event + position] = values[best * event + position] }
        }
        return Tensor(shape: q.batchShape + q.eventShape, scalars: chosen)
    }

    /// Test images (first row) above their reconstructions through the guide's mean (second row).
    func reconstructions(_ images: Tensor) throws -> PNGImage {
        PNGImage.grid(Tensor.concatenate([images, try reconstructionMeans(images)]), imageShape: imageShape, columns: images.shape[0], invert: invert)
    }

    /// Kingma & Welling's Figure 4: decoder means over a grid of a 2-D latent space, placed by
    /// the inverse normal CDF of evenly spaced probabilities.
    func manifold(side: Int) throws -> PNGImage {
        let quantiles = (0..<side).map { inverseNormalCDF((Double($0) + 0.5) / Double(side)) }
        let z = Tensor(quantiles.flatMap { a in quantiles.map { b in [Float(b), Float(-a)] } }).reshaped(to: [side * side, 2])
        return PNGImage.grid(try decoderMeans(z), imageShape: imageShape, columns: side, gap: 0, invert: invert)
    }
}

/// `Phi^-1(p)` by bisection on `erfc` (exact to 1e-12 on (0, 1)).
func inverseNormalCDF(_ p: Double) -> Double {
    var (low, high) = (-40.0, 40.0)
    for _ in 0..<200 {
        let middle = (low + high) / 2
        if 0.5 * erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
    }
    return (low + high) / 2
}

/// The training and held-out figures per epoch (the ELBO, or what `objective` says), as SVG.
func elboChart(_ reports: [EpochReport], model: String, objective: ReportedObjective) -> String {
    let plain = objective.isPlainELBO
    var chart = SVGChart(title: "\(plain ? "ELBO" : "Objective") per datapoint, \(model)", xLabel: "epoch", yLabel: "\(plain ? "ELBO" : "objective") (nats)")
    chart.series.append((plain ? "training" : "training " + objective.trainFigure(epoch: reports.last?.epoch ?? 1), reports.map { (Double($0.epoch), Double($0.trainELBO)) }))
    let heldOut = reports.compactMap { report in report.heldOutELBO.map { (Double(report.epoch), Double($0)) } }
    if !heldOut.isEmpty { chart.series.append((plain ? "held-out" : "held-out " + objective.heldOutFigure, heldOut)) }
    return chart.rendered()
}

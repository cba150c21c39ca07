extension Trace {
    /// Refuses an observed site whose distribution has a batch dimension that no plate declares
    /// and its value lacks: the log-likelihood would count each observation once per element of
    /// that dimension, with no error (a mean broadcast against `Tensor.zeros([3, 1])` gave an
    /// ELBO of -84.27 where the evidence is -29.48). Run on a trace without enumeration, whose
    /// dimensions are all the model's own.
    package func checkObservationsAreCountedOnce() throws {
        for site in observedSites {
            let batch = site.batchShape
            let valueBatch = Array(site.value.shape.dropLast(site.eventShape.count))
            for dim in undeclaredAxes(of: batch, declared: Set(site.plates.map(\.dim))) {
                guard valueBatch.count < -dim || valueBatch[valueBatch.count + dim] == 1 else { continue }
                let size = batch[batch.count + dim]
                throw ModelError.repeatedObservation(site: site.name, location: site.location, reason: "its distribution's batch shape \(describeShape(batch)) has dimension \(dim) of size \(size), which no plate declares and its value (shape \(describeShape(site.value.shape))) does not have, so the log-likelihood would count each observation \(size) times; check the shapes of its parameters (an axis added by broadcasting), or declare a plate over that dimension")
            }
        }
    }
}

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
            try checkPlatesAreInTheBatch(of: site, batch: batch, valueBatch: valueBatch)
        }
    }

    /// Refuses an observed site with an event (`.independent(n)`) whose plates were declared
    /// over the value's whole shape: a plate that the value's batch shape lacks, where the
    /// value holds an axis of the plate's size, falls on an axis of the event, and the plates
    /// meet the value's batch axes one place off (rows [3, 3] observed under a data plate and a
    /// features plate with a 3-wide event counted every row three times).
    private func checkPlatesAreInTheBatch(of site: Site, batch: [Int], valueBatch: [Int]) throws {
        guard !site.eventShape.isEmpty else { return }
        let value = site.value.shape
        for plate in site.plates.sorted(by: { $0.dim > $1.dim }) {
            let lacking = valueBatch.count < -plate.dim || valueBatch[valueBatch.count + plate.dim] == 1
            // The data plate's rows must be in the value's batch; another plate falls on the
            // event when its dimension, counted on the whole value, is one of the event's axes
            // and of the plate's size (a plate of copies left of the rows is the model's own).
            let onTheEvent = -plate.dim <= site.eventShape.count && value.count >= -plate.dim && value[value.count + plate.dim] == plate.subsampleSize
            guard lacking, batch.count >= -plate.dim, batch[batch.count + plate.dim] > 1, plate.isDataPlate || onTheEvent else { continue }
            let times = batch.reduce(1, *) / Swift.max(1, valueBatch.reduce(1, *))
            throw ModelError.repeatedObservation(site: site.name, location: site.location, reason: "plate '\(plate.name)' declares dimension \(plate.dim), which its value (shape \(describeShape(value))) has only as an axis of the distribution's event (event shape \(describeShape(site.eventShape)), batch shape \(describeShape(valueBatch))): a plate's dimension counts from the right of the batch shape, left of the event, so the plates fall one place off the value's axes and the log-likelihood would count each observation \(times) times; an axis is the event's or a plate's, not both (leave out `.independent` or the plate over that axis)")
        }
    }
}

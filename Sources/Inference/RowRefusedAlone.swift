import Distributions
import PPL
import TensorCore

extension Amortized {
    /// The row of `rows` that the model refuses when run on it alone (its latents drawn from
    /// their priors): the first whose observed value lies outside its support, or the first
    /// refused for a parameter when another row is not and the model's initial parameters are
    /// refused on it too (an exposure of 0 makes a Poisson rate of 0 whatever the parameters;
    /// a parameter refused on every row, or only under the updated parameters, is their doing:
    /// a weight grown large overflows the rate of rows with large covariates first). Its index
    /// in `rows` and its error; nil when no row decides it.
    func rowRefusedAlone(_ rows: Input, datasetSize: Int) -> (index: Int, error: ModelError)? {
        guard let refused = firstRowRefusedAlone(rows, datasetSize: datasetSize) else { return nil }
        guard refused.error.refusesAParameter else { return refused }
        let initially = Result { try withoutGradient { try model.trace(rows.rows([refused.index]), datasetSize, parameters: ParameterStore(), seed: 0) } }
        guard case let .failure(first as ModelError) = initially, first.refusesAParameter else { return nil }
        return refused
    }

    /// The first row of `rows` refused alone under the current parameters, as `rowRefusedAlone`
    /// describes, before the check with the initial ones.
    private func firstRowRefusedAlone(_ rows: Input, datasetSize: Int) -> (index: Int, error: ModelError)? {
        var refused: (index: Int, error: ModelError)?, accepted = false
        for index in 0..<rows.rowCount {
            do {
                _ = try withoutGradient { try model.trace(rows.rows([index]), datasetSize, parameters: parameters, seed: 0) }
                accepted = true
            } catch let error as ModelError {
                guard case let .atSite(_, _, underlying) = error, let distributionError = underlying as? DistributionError else { return nil }
                switch distributionError {
                case .valueOutsideSupport: return (index, error)
                case .invalidParameter: if refused == nil { refused = (index, error) }
                default: return nil
                }
            } catch {
                return nil
            }
            if accepted, refused != nil { return refused }
        }
        return nil
    }

    /// Where in its row the value `alone` (refused in a run on row `row` alone) lies: its index
    /// without the rows' axis, found as the one axis where `among`, the same refusal in a run
    /// on every row, holds `row` and `alone` holds 0; empty when they do not tell.
    func elementInRow(_ alone: ModelError, row: Int, among: ModelError) -> [Int] {
        func index(_ error: ModelError) -> [Int]? {
            guard case let .atSite(_, _, underlying) = error, case let .valueOutsideSupport(_, index, _, _)? = underlying as? DistributionError else { return nil }
            return index
        }
        guard let single = index(alone), let whole = index(among), single.count == whole.count else { return [] }
        let axes = single.indices.filter { axis in
            single[axis] == 0 && whole[axis] == row && single.indices.allSatisfy { $0 == axis || single[$0] == whole[$0] }
        }
        guard let axis = axes.first else { return [] }
        var element = single
        element.remove(at: axis)
        return element
    }
}

extension ModelError {
    /// Whether a site's distribution refused one of its parameters.
    var refusesAParameter: Bool {
        guard case let .atSite(_, _, underlying) = self, case .invalidParameter? = underlying as? DistributionError else { return false }
        return true
    }
}

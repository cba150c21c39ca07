import TensorCore

/// A mistake found while running a model, naming the site and where it is written.
public enum ModelError: Error, CustomStringConvertible {
    /// A site whose name is empty.
    case unnamedSite(kind: SiteKind, location: SourceLocation)
    /// Two sites with one name.
    case duplicateSite(name: String, first: SourceLocation, second: SourceLocation)
    /// An observation whose shape does not fit its distribution.
    case observationShape(site: String, expected: [Int], got: [Int], location: SourceLocation)
    /// A site whose distribution's batch shape disagrees with a plate around it.
    case plateMismatch(site: String, plate: String, plateSize: Int, dim: Int, batchShape: [Int], location: SourceLocation)
    /// An observation whose size along a plate's dimension differs from the plate.
    case plateSizeMismatch(site: String, plate: PlateFrame, valueShape: [Int], dataSize: Int, location: SourceLocation)
    /// Two nested plates on one dimension.
    case plateConflict(plate: String, dim: Int, location: SourceLocation)
    /// A plate declared with a size, subsample or dimension it cannot have.
    case badPlate(plate: String, reason: String, location: SourceLocation)
    /// A Markov chain declared with a length or history it cannot have.
    case badChain(chain: String, reason: String, location: SourceLocation)
    /// An error raised inside the model (tensor code or a distribution), with the site at or
    /// after which it happened.
    case atSite(site: String, location: SourceLocation, underlying: any Error)
    /// A site asked for by name that the model does not have, or has of another kind.
    case noSuchSite(name: String, model: String, available: [String])
    /// A parameter a restored store does not hold.
    case missingParameter(name: String, location: SourceLocation)
    /// A parameter whose initial value is not finite or not in its constraint.
    case badParameter(name: String, reason: String, location: SourceLocation)
    /// A question that needs latent sites with finite support, or a sum it cannot do.
    case notEnumerable(site: String, location: SourceLocation, reason: String)
    /// A site that reads a site of a `markov` chain after the chain gave that site's
    /// enumeration dimension to a later step's site.
    case reusedChainDimension(site: String, location: SourceLocation, reason: String)
    /// An observed site whose distribution counts its value more than once.
    case repeatedObservation(site: String, location: SourceLocation, reason: String)
    /// A mask (of a partly observed site, or a `MaskHandler`'s) holding something other than 0 or 1.
    case badMask(site: String, index: Int, value: Float, location: SourceLocation)
    /// A `MaskHandler` mask that does not fit the batch shape of a site it masks.
    case maskShape(site: String, maskShape: [Int], batchShape: [Int], location: SourceLocation)

    public var description: String {
        switch self {
        case let .unnamedSite(kind, location):
            return "the \(kind) site at \(location) has an empty name; every site needs a name of its own"
        case let .duplicateSite(name, first, second):
            return "site '\(name)' at \(second) has the same name as the site at \(first); site names must be unique"
        case let .observationShape(site, expected, got, location):
            return "site '\(site)' at \(location): observed value has shape \(describeShape(got)), expected \(describeShape(expected))"
        case let .plateMismatch(site, plate, plateSize, dim, batchShape, location):
            return "site '\(site)' at \(location): distribution batch shape \(describeShape(batchShape)) does not broadcast to plate '\(plate)' of size \(plateSize) at dimension \(dim)"
        case let .plateSizeMismatch(site, plate, valueShape, dataSize, location):
            let size = plate.subsampleSize == plate.size ? "has size \(plate.size)" : "has \(plate.subsampleSize) elements in this minibatch (of \(plate.size))"
            var message = "site '\(site)' at \(location): plate '\(plate.name)' \(size) but the data have \(dataSize) along its dimension (\(plate.dim))"
            // A table's column, or a one-column file, read as rows of one value.
            if valueShape.count >= 2, valueShape.last == 1, valueShape[valueShape.count - 2] == plate.subsampleSize, plate.dim == -1 {
                message += "; the observed value has shape \(describeShape(valueShape)), one row of one value each: observe a vector (x.reshaped(to: [-1])), or make the last axis an event (.independent(1))"
            }
            return message
        case let .plateConflict(plate, dim, location):
            return "plate '\(plate)' at \(location) asks for dimension \(dim), which an enclosing plate already uses"
        case let .badPlate(plate, reason, location):
            return "plate '\(plate)' at \(location): \(reason)"
        case let .badChain(chain, reason, location):
            return "Markov chain '\(chain)' at \(location): \(reason)"
        case let .atSite(site, location, underlying):
            return "site '\(site)' at \(location): \(underlying)"
        case let .noSuchSite(name, model, available):
            return "model '\(model)' has no site '\(name)' (its sites: \(available.joined(separator: ", ")))"
        case let .missingParameter(name, location):
            return "parameter '\(name)' at \(location) is not among the stored parameters"
        case let .badParameter(name, reason, location):
            return "parameter '\(name)' at \(location): \(reason)"
        case let .notEnumerable(site, location, reason):
            return "site '\(site)' at \(location) cannot be summed out exactly: \(reason)"
        case let .reusedChainDimension(site, location, reason):
            return "site '\(site)' at \(location) depends on a value its Markov chain no longer holds: \(reason)"
        case let .repeatedObservation(site, location, reason):
            return "site '\(site)' at \(location): \(reason)"
        case let .badMask(site, index, value, location):
            return "site '\(site)' at \(location): its mask holds \(value) at element \(index); a mask holds 1 where the entry counts (is known) and 0 where it does not"
        case let .maskShape(site, maskShape, batchShape, location):
            return "site '\(site)' at \(location): the MaskHandler mask around it has shape \(Shape.describe(maskShape)), which does not fit the site's batch shape \(Shape.describe(batchShape)) (\(batchShape.isEmpty ? "one value" : "one term per entry")): its terms would be counted once per mask entry. A mask has the site's batch shape or broadcasts to it; a site outside the plate the mask follows is one value for all its entries, so leave it outside the MaskHandler"
        }
    }
}

func describeShape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

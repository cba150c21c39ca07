import Distributions
import NN
import PPL
import TensorCore

/// The compiled guide as a program in the modeling language: encoder networks registered with
/// `module`, global heads with `param`, and one `latent` site per guided model site in the
/// model site's plates, so that the same handlers (trace, replay, enumerate, seed) run it as
/// they run the model.
///
/// Every head's input is laid out as the model's values are: enumeration axes, then the model's
/// batch axes (the data plate's holding the rows), then the features along the last axis.
///
/// Unchecked `Sendable`: a guide is built once and run by one training loop at a time, and its
/// input scaling is set before training starts, never while a run reads it.
struct AmortizedGuide<Input: RowData>: @unchecked Sendable {
    let plan: GuidePlan
    let options: CompilerOptions
    /// Numbers per row of the data (the encoders' data input).
    let featureCount: Int
    let scaling: InputScaling

    var batchRank: Int { plan.maximumBatchRank }

    /// The shared trunk, when asked for.
    var trunk: MLP? {
        guard options.sharedTrunk, !options.hiddenSizes.isEmpty else { return nil }
        return MLP([featureCount] + options.hiddenSizes, activation: options.activation, outputActivation: options.activation)
    }

    /// Numbers a head is fed for `name` among its inputs.
    func inputWidth(_ name: String) -> Int {
        if name == "data" { return trunk == nil ? featureCount : options.hiddenSizes.last! }
        let upstream = plan[name]!
        return upstream.guideFamily!.featureCount(upstream.shape) * upstream.shape.valueBatch.reduce(1, *)
    }

    func inputSize(of site: GuideSite) -> Int { site.inputs.map(inputWidth).reduce(0, +) }

    /// The encoder of a local site: the user's, or an MLP from the options.
    func network(for site: GuideSite) throws -> MLP {
        let outputs = site.guideFamily!.outputCount(site.shape)
        if let custom = options.heads[site.name] {
            guard custom.sizes.last == outputs, custom.sizes.first == inputSize(of: site) else {
                throw CompilerError.unsupportedSite(site: site.name, location: site.location, reason: "the custom head maps \(custom.sizes.first ?? 0) inputs to \(custom.sizes.last ?? 0) outputs; this site's head takes \(inputSize(of: site)) inputs (\(site.inputs.joined(separator: " + "))) and outputs \(outputs)")
            }
            return custom
        }
        let hidden = options.sharedTrunk ? [] : options.hiddenSizes
        return MLP([inputSize(of: site)] + hidden + [outputs], activation: options.activation)
    }

    /// The plan with each head's parameter count, from the networks and heads this guide builds.
    func countedPlan() throws -> GuidePlan {
        var sites = plan.sites
        for index in sites.indices where sites[index].isGuided {
            let site = sites[index]
            if site.plate != nil {
                sites[index].parameterCount = try network(for: site).parameterSlots.map { $0.shape.reduce(1, *) }.reduce(0, +)
            } else {
                sites[index].parameterCount = site.guideFamily!.outputCount(site.shape) * (1 + inputSize(of: site))
            }
        }
        return GuidePlan(model: plan.model, sites: sites, maximumBatchRank: plan.maximumBatchRank, dataPlate: plan.dataPlate)
    }

    /// The guide program, taking the model's inputs.
    func program() throws -> Model<Input, Int> {
        let networks = try Dictionary(uniqueKeysWithValues: plan.guidedSites.filter { $0.plate != nil }.map { ($0.name, try network(for: $0)) })
        let trunk = self.trunk
        return Model("guide of \(plan.model)") { (data: Input, datasetSize: Int) in
            run(data, datasetSize: datasetSize, networks: networks, trunk: trunk)
        }
    }

    /// The guide with each local head freed row by row, for measuring the amortization gap: a
    /// head fed the data alone is replaced by free per-row outputs starting at `initial[site]`;
    /// a head also fed upstream latents keeps its network, so that it follows their draws, and
    /// gets a free per-row offset starting at 0. Either way the refined guide starts as the
    /// amortized one and can only improve on it.
    func refinedProgram(initial: [String: Tensor]) throws -> Model<Input, Int> {
        let fed = plan.guidedSites.filter { $0.plate != nil && $0.inputs != ["data"] }
        let networks = try Dictionary(uniqueKeysWithValues: fed.map { ($0.name, try network(for: $0)) })
        let trunk = fed.contains { $0.inputs.contains("data") } ? self.trunk : nil
        return Model("refined guide of \(plan.model)") { (data: Input, datasetSize: Int) in
            run(data, datasetSize: datasetSize, networks: networks, trunk: trunk, free: initial)
        }
    }

    /// The name of the free per-row outputs that replace a local site's encoder in a refined guide.
    static func freeOutputName(_ site: String) -> String { "\(site).free outputs" }

    /// The raw head outputs of every local site for the rows `data`.
    func headOutputs(_ data: Input, parameters: ParameterStore) throws -> [String: Tensor] {
        let recorder = HeadRecorder()
        try program().run(data, data.rowCount, handlers: [parameters, recorder])
        return recorder.outputs
    }

    func run(_ data: Input, datasetSize: Int, networks: [String: MLP], trunk: MLP?, free: [String: Tensor] = [:]) {
        let rows = data.rowCount
        var fed: [String: Tensor] = [:]
        var features: Tensor?
        for site in plan.guidedSites {
            let family = site.guideFamily!
            // Computed only where used: an encoder of repeated rows reads one copy of them.
            func siteInputs() -> [Tensor] {
                site.inputs.map { name -> Tensor in
                    if name == "data" {
                        if features == nil { features = dataFeatures(data, trunk: trunk) }
                        return features!
                    }
                    return headInput(plan[name]!, fed[name]!)
                }
            }
            var raw: Tensor
            let leading: [Int]
            var repeatedRows: RepeatedRows?
            if let plate = site.plate {
                if let initial = free[site.name], networks[site.name] == nil {
                    raw = param(Self.freeOutputName(site.name), initial)
                } else if let repeated = RepeatedRows.current, site.inputs == ["data"], rows % repeated.copies == 0 {
                    // The rows are copies of the same rows: their encoder runs once for them all.
                    repeatedRows = repeated
                    raw = repeated.encoderOutputs.output(of: site.name, copies: repeated.copies) {
                        let once = module(site.name, networks[site.name]!)(dataFeatures(data.rows(Array(0..<(rows / repeated.copies))), trunk: trunk))
                        return repeated.copies == 1 ? once : Tensor.concatenate(Array(repeating: once, count: repeated.copies), axis: batchRank + plate.dim)
                    }
                } else {
                    raw = module(site.name, networks[site.name]!)(concatenated(siteInputs()))
                    if let initial = free[site.name] { raw = raw + param(Self.freeOutputName(site.name), Tensor.zeros(initial.shape)) }
                }
                leading = Array(raw.shape.dropLast().dropLast(-plate.dim - 1))
            } else {
                let inputs = siteInputs()
                let bias = param("\(site.name).bias", family.initialOutput(site.shape))
                if inputs.isEmpty {
                    raw = bias
                    leading = []
                } else {
                    let x = concatenated(inputs)
                    let weight = param("\(site.name).weight", Tensor.zeros([x.shape.last ?? 0, bias.count]))
                    raw = matmul(x, weight) + bias
                    // The inputs' plate axes (all 1 for a global site) stay only beside
                    // enumerated values, which lie left of them; otherwise the value has the
                    // prior's shape.
                    leading = raw.rank - 1 > batchRank ? Array(raw.shape.dropLast().dropLast(site.shape.valueBatch.count)) : []
                }
            }
            HeadRecorder.record(site.name, raw)
            raw = raw.reshaped(to: leading + [raw.shape.last ?? 0])
            let shaped = raw
            let makeQ = { family.distribution(shaped, leading: leading, site: site.shape) }
            let q = repeatedRows.map { $0.encoderOutputs.distribution(of: site.name, copies: $0.copies, makeQ) } ?? makeQ()
            var value = Tensor(0)
            withPlates(frames(of: site, rows: rows, datasetSize: datasetSize)) { value = latent(site.name, at: site.location) ~ q }
            if family.feedsDownstreamHeads, plan.guidedSites.contains(where: { $0.inputs.contains(site.name) }) {
                fed[site.name] = family.features(of: value, raw: raw, leading: leading, site: site.shape, distribution: q)
            }
        }
    }

    /// The model site's plates, the data plate with this minibatch's rows.
    func frames(of site: GuideSite, rows: Int, datasetSize: Int) -> [PlateFrame] {
        site.plates.map { frame in
            frame.isDataPlate ? PlateFrame(name: frame.name, size: datasetSize, subsampleSize: rows, dim: frame.dim, isDataPlate: true) : frame
        }
    }

    /// The rows, standardized (and through the shared trunk), with the rows along the data
    /// plate's axis: shape `batch axes + [features]`.
    func dataFeatures(_ data: Input, trunk: MLP?) -> Tensor {
        let rows = data.rowCount
        let input = data.encoderInput(columns: options.encoderColumns)
        guard input.shape.last == featureCount else {
            return Tensor.failure("encoder", "the rows have \(input.shape.last ?? 0) numbers each, and the guide's encoders were compiled on rows of \(featureCount); give rows of the data it was compiled on", shape: [rows, featureCount])
        }
        var x = scaling.apply(input)
        if let trunk { x = module("trunk", trunk)(x) }
        let dim = plan.dataPlate?.dim ?? -1
        let layout = [Int](repeating: 1, count: batchRank + dim) + [rows] + [Int](repeating: 1, count: -dim - 1)
        return x.reshaped(to: layout + [x.shape.last ?? 0])
    }

    /// An upstream site's features (its family's `features`: batch axes, then numbers) as a head
    /// input: the enumeration axes, the batch axes (the rows kept along the data plate's axis
    /// for a local site, everything else flattened into the features), then the numbers.
    func headInput(_ site: GuideSite, _ features: Tensor) -> Tensor {
        let perElement = features.shape.last ?? 1
        var core = Array(features.shape.dropLast())
        if core.count < batchRank { core = [Int](repeating: 1, count: batchRank - core.count) + core }
        let enumeration = Array(core.prefix(core.count - batchRank))
        let batch = Array(core.suffix(batchRank))
        guard let plate = site.plate else {
            return features.reshaped(to: enumeration + [Int](repeating: 1, count: batchRank) + [batch.reduce(1, *) * perElement])
        }
        let position = batchRank + plate.dim
        let inner = batch.suffix(from: position + 1).reduce(1, *)
        return features.reshaped(to: enumeration + batch.prefix(position + 1) + [Int](repeating: 1, count: batchRank - position - 1) + [inner * perElement])
    }

    /// `inputs` broadcast over their leading axes and joined along the last.
    func concatenated(_ inputs: [Tensor]) -> Tensor {
        guard inputs.count > 1 else { return inputs[0] }
        let leading = inputs.map { Array($0.shape.dropLast()) }.reduce([]) { Shape.broadcast($0, $1) ?? $0 }
        return Tensor.concatenate(inputs.map { $0.expanded(to: leading + [$0.shape.last ?? 0]) }, axis: -1)
    }
}

/// Mean and scale that the encoders standardize their input with, `(x - mean) / scale` per
/// feature, measured on the training data and kept with the guide's parameters.
final class InputScaling {
    var mean: Tensor
    var scale: Tensor

    init(features: Int) {
        mean = Tensor.zeros([features])
        scale = Tensor.ones([features])
    }

    /// Measures `x` (shape `[rows, features]`): a feature's scale is its standard deviation, but
    /// at least an eighth of its range, so that no standardized value passes 8 (a pixel that is
    /// rarely on has a tiny deviation; dividing by it alone gave held-out MNIST images values in
    /// the hundreds and cost 4 nats of held-out ELBO); 1 for a feature that does not vary.
    func measure(_ x: Tensor) {
        measure(rowCount: x.shape[0]) { x.slice(axis: 0, $0) }
    }

    /// Measures rows read `chunk` by chunk (1024 rows at a time), in two passes with Double
    /// sums, so that rows on disk are measured without holding them all in memory.
    func measure(rowCount: Int, chunk: (Range<Int>) throws -> Tensor) rethrows {
        let step = 1024
        var sum: [Double] = [], low: [Float] = [], high: [Float] = []
        for start in stride(from: 0, to: rowCount, by: step) {
            let rows = try chunk(start..<Swift.min(start + step, rowCount))
            let features = rows.shape.last ?? 1
            if sum.isEmpty { (sum, low, high) = ([Double](repeating: 0, count: features), [Float](repeating: .infinity, count: features), [Float](repeating: -.infinity, count: features)) }
            rows.withElements { p in
                sum.withUnsafeMutableBufferPointer { sum in
                    low.withUnsafeMutableBufferPointer { low in
                        high.withUnsafeMutableBufferPointer { high in
                            for row in 0..<(rows.count / Swift.max(features, 1)) {
                                let values = p + row * features
                                for j in 0..<features {
                                    sum[j] += Double(values[j])
                                    low[j] = Swift.min(low[j], values[j])
                                    high[j] = Swift.max(high[j], values[j])
                                }
                            }
                        }
                    }
                }
            }
        }
        let count = Double(Swift.max(rowCount, 1))
        let means = sum.map { $0 / count }
        var squares = [Double](repeating: 0, count: means.count)
        for start in stride(from: 0, to: rowCount, by: step) {
            let rows = try chunk(start..<Swift.min(start + step, rowCount))
            rows.withElements { p in
                squares.withUnsafeMutableBufferPointer { squares in
                    means.withUnsafeBufferPointer { means in
                        for row in 0..<(rows.count / Swift.max(means.count, 1)) {
                            let values = p + row * means.count
                            for j in 0..<means.count {
                                let d = Double(values[j]) - means[j]
                                squares[j] += d * d
                            }
                        }
                    }
                }
            }
        }
        let scales = means.indices.map { j -> Float in
            let deviation = Float((squares[j] / count).squareRoot())
            let scale = Swift.max(deviation, (high[j] - low[j]) / 8)
            return scale > 1e-6 * (1 + abs(Float(means[j]))) ? scale : 1
        }
        mean = Tensor(means.map(Float.init))
        scale = Tensor(scales)
    }

    func apply(_ x: Tensor) -> Tensor { (x - mean) / scale }
}

/// Collects the raw head outputs of a guide run (a handler that only listens).
final class HeadRecorder: Handler {
    var outputs: [String: Tensor] = [:]

    func process(_ message: inout Message) {
        guard message.kind == .deterministic, message.name.hasPrefix("head:") else { return }
        outputs[String(message.name.dropFirst(5))] = message.value
        message.stop = true
    }

    /// Announces a head's output as a deterministic site that only a `HeadRecorder` sees.
    static func record(_ site: String, _ raw: Tensor) {
        guard HandlerStack.handlers.contains(where: { $0 is HeadRecorder }) else { return }
        deterministic("head:\(site)", raw)
    }
}

/// Rows that are `copies` copies, one after another, of the same rows (importance sampling
/// draws several samples per row in one pass this way): a guide then runs each encoder that
/// reads the data alone on one copy, repeats its output, and keeps that and the guide
/// distribution made of it for the next pass.
struct RepeatedRows: Sendable {
    @TaskLocal static var current: RepeatedRows?
    /// How many copies the rows are.
    let copies: Int
    /// Each encoder's output and guide distribution, kept for every pass over the same rows.
    let encoderOutputs: EncoderOutputs
}

/// The encoders' outputs on fixed rows under fixed parameters, repeated for some number of
/// copies, and the guide distributions made of them, computed once per site and number: the
/// passes of one importance-sampled estimate share them.
final class EncoderOutputs: @unchecked Sendable {
    private struct Key: Hashable {
        let site: String
        let copies: Int
    }

    private var outputs: [Key: Tensor] = [:]
    private var distributions: [Key: any Distribution] = [:]

    /// The output of `site`'s encoder on `copies` copies of the rows: `compute()` the first
    /// time it is asked for.
    func output(of site: String, copies: Int, _ compute: () -> Tensor) -> Tensor {
        Self.kept(in: &outputs, Key(site: site, copies: copies), compute)
    }

    /// The guide's distribution of `site` made of that output: `compute()` the first time.
    func distribution(of site: String, copies: Int, _ compute: () -> any Distribution) -> any Distribution {
        Self.kept(in: &distributions, Key(site: site, copies: copies), compute)
    }

    /// `store[key]`, set to `compute()` first if it is not there.
    private static func kept<Value>(in store: inout [Key: Value], _ key: Key, _ compute: () -> Value) -> Value {
        if let value = store[key] { return value }
        let value = compute()
        store[key] = value
        return value
    }
}

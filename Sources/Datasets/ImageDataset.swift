import Foundation
import TensorCore

/// A data set of rows (images flattened, or points), split into training and test rows.
public struct Dataset {
    /// Training rows, each of `features` numbers.
    public var train: DataRows
    /// Held-out rows.
    public var test: DataRows
    /// Height and width of an image row, when the rows are images.
    public var imageShape: [Int]?
    /// Where the data came from.
    public var source: String
    /// The names of the columns, for a CSV file.
    public var columns: [String]?
    /// Where the training and the held-out rows stand in the file (in the training file, then
    /// the test file, for a folder of two), in order.
    public var trainRows: [Int]
    public var testRows: [Int]
    /// The columns of a CSV file left out, each with the reason (`'Species' (text)`).
    public var skippedColumns: [String] = []
    /// The class of each training and held-out row, when the data come with labels (an MNIST
    /// folder holding its label files).
    public var trainLabels: [Int]?
    public var testLabels: [Int]?

    /// The rows of class `label` left out of training and held-out rows alike.
    public func leavingOut(class label: Int) throws -> Dataset {
        guard let trainLabels, let testLabels else {
            throw DataError.unsupported(path: source, reason: "leaving out a class needs labels (an MNIST folder with its label files)")
        }
        let keptTrain = trainLabels.indices.filter { trainLabels[$0] != label }, keptTest = testLabels.indices.filter { testLabels[$0] != label }
        guard keptTrain.count < trainLabels.count else {
            let classes = Set(trainLabels).sorted().map(String.init).joined(separator: ", ")
            throw DataError.unsupported(path: source, reason: "no training row is of class \(label), so none would be left out (its classes are \(classes))")
        }
        guard !keptTrain.isEmpty, !keptTest.isEmpty else { throw DataError.corrupt(path: source, reason: "every row is of class \(label)") }
        var result = Dataset(train: train.selecting(keptTrain), test: test.selecting(keptTest), imageShape: imageShape, source: source,
                             trainRows: keptTrain.map { trainRows[$0] }, testRows: keptTest.map { testRows[$0] })
        result.columns = columns
        result.trainLabels = keptTrain.map { trainLabels[$0] }
        result.testLabels = keptTest.map { testLabels[$0] }
        return result
    }

    /// Training and held-out rows; by default the training rows come first in the source.
    public init(train: Tensor, test: Tensor, imageShape: [Int]?, source: String, trainRows: [Int]? = nil, testRows: [Int]? = nil) {
        self.init(train: DataRows(train), test: DataRows(test), imageShape: imageShape, source: source, trainRows: trainRows, testRows: testRows)
    }

    /// Training and held-out rows, in memory or on disk.
    public init(train: DataRows, test: DataRows, imageShape: [Int]?, source: String, trainRows: [Int]? = nil, testRows: [Int]? = nil) {
        self.train = train
        self.test = test
        self.imageShape = imageShape
        self.source = source
        self.trainRows = trainRows ?? Array(0..<train.rowCount)
        self.testRows = testRows ?? Array(train.rowCount..<(train.rowCount + test.rowCount))
    }

    /// Every row, in the order of the source, in memory.
    public func allRows() throws -> Tensor { Tensor.concatenate([try train.tensor(), try test.tensor()]).rows(at: fileOrder) }

    /// Both sets binarized at 0.5 (`Binarization.threshold`).
    public func thresholded() -> Dataset {
        var copy = self
        copy.train = train.thresholded()
        copy.test = test.thresholded()
        return copy
    }

    /// The label of every row, in the order of the source, when the data have labels.
    public var allLabels: [Int]? {
        guard let trainLabels, let testLabels else { return nil }
        let joined = trainLabels + testLabels
        return fileOrder.map { joined[$0] }
    }

    /// For each row of the source, its place among the training rows followed by the held-out ones.
    var fileOrder: [Int] {
        var position = [Int](repeating: 0, count: trainRows.count + testRows.count)
        for (index, row) in (trainRows + testRows).enumerated() where row < position.count { position[row] = index }
        return position
    }

    /// Reads `path`: a folder of the four MNIST IDX files (raw or `.gz`), or one CSV or `.npy`
    /// file of which a fixed random `testFraction` of rows (seed 0) is held out, so that data
    /// stored in order (video frames, sorted classes) still give a representative test set.
    /// Pixel values are scaled to [0, 1]. MNIST images stay on disk as bytes (see `mnist`);
    /// `notice` hears of a `.gz` file decompressed to a cache file.
    /// `columns` chooses the columns of a CSV file (its numeric columns when nil).
    public static func load(_ path: String, testFraction: Double = 0.1, columns: [String]? = nil, notice: ((String) -> Void)? = nil) throws -> Dataset {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw DataError.missing(path: path) }
        if columns != nil, !isCSV(path) { throw DataError.unsupported(path: path, reason: "columns can be chosen in a CSV file only") }
        if isFolder.boolValue { return try mnist(folder: path, notice: notice) }
        let lowered = path.lowercased()
        let all: DataRows
        var imageShape: [Int]?
        var csv: CSVTable?
        if lowered.hasSuffix(".npy") || lowered.hasSuffix(".npy.gz") {
            let raw = DecompressedCache.isGzip(path) ? try DecompressedCache.file(for: path, notice: notice) : path
            (all, imageShape) = try npy(raw, source: path)
        } else if isCSV(path) {
            csv = try CSVFile.read(path, columns: columns)
            let table = csv!.values
            try checkRows(table, path: path)
            all = DataRows(table)
        } else {
            throw DataError.unsupported(path: path, reason: "expected a folder of MNIST IDX files, a .csv or a .npy file")
        }
        let rows = all.rowCount
        let testRows = Swift.max(1, Int(Double(rows) * testFraction))
        guard rows > testRows else { throw DataError.corrupt(path: path, reason: "\(rows) rows are too few to hold out \(testRows) for testing") }
        var generator = RandomGenerator(seed: 0)
        let order = generator.permutation(rows)
        let train = order[testRows...].sorted(), test = order[..<testRows].sorted()
        var dataset = Dataset(train: all.selecting(train), test: all.selecting(test), imageShape: imageShape, source: path, trainRows: train, testRows: test)
        dataset.columns = csv?.columns
        dataset.skippedColumns = csv?.skipped ?? []
        return dataset
    }

    /// Whether `path` names a CSV file (`.csv`, or `.csv.gz`), the one format with named columns.
    public static func isCSV(_ path: String) -> Bool {
        let lowered = path.lowercased()
        return lowered.hasSuffix(".csv") || lowered.hasSuffix(".csv.gz")
    }

    /// The rows of the raw `.npy` file `raw`, left on disk: a 3-D array is images, as is a 4-D
    /// one with one channel (N, H, W, 1) or (N, 1, H, W); images are kept as they are when no
    /// value passes 1, and scaled from 0...255 to [0, 1] when every value is a whole number in
    /// 0...255 and one passes 1; other images are refused, naming a value that is neither. One
    /// pass over the file checks every value is finite.
    static func npy(_ raw: String, source: String) throws -> (rows: DataRows, imageShape: [Int]?) {
        var (file, shape) = try NPYFile.rows(raw)
        guard !shape.isEmpty else { throw DataError.corrupt(path: source, reason: "the array is a single number; data need rows (a first axis)") }
        try checkRows(rows: file.rowCount, numbersPerRow: file.rowLength, shape: [file.rowCount, file.rowLength], path: source)
        let imageShape: [Int]?
        switch shape.count {
        case 1, 2: imageShape = nil
        case 3: imageShape = Array(shape.suffix(2))
        case 4 where shape[3] == 1: imageShape = [shape[1], shape[2]]
        case 4 where shape[1] == 1: imageShape = [shape[2], shape[3]]
        default:
            throw DataError.unsupported(path: source, reason: "a \(shape.count)-D array of shape \(Shape.describe(shape)): a 3-D array (N, H, W) is read as images, as is a 4-D one of one channel, (N, H, W, 1) or (N, 1, H, W), and a 2-D one as rows of numbers; reshape it to one of those")
        }
        var (smallest, largest) = (Float.infinity, -Float.infinity)
        var notAByte: (row: Int, value: Float)?, negative: (row: Int, value: Float)?
        let step = Swift.max(1, (1 << 20) / file.rowLength)
        var buffer = [Float](repeating: 0, count: step * file.rowLength)
        for start in stride(from: 0, to: file.rowCount, by: step) {
            let count = Swift.min(step, file.rowCount - start)
            try buffer.withUnsafeMutableBufferPointer { try file.read(Array(start..<(start + count)), into: $0.baseAddress!) }
            for (index, value) in buffer.prefix(count * file.rowLength).enumerated() {
                guard value.isFinite else {
                    let held = value.isInfinite && file.element == .float64 ? "a number beyond the range of a 32-bit float (magnitudes up to 3.4e38)" : "\(value)"
                    throw DataError.corrupt(path: source, reason: "row \(start + index / file.rowLength), number \(index % file.rowLength) holds \(held); the data must be finite numbers")
                }
                (smallest, largest) = (Swift.min(smallest, value), Swift.max(largest, value))
                if notAByte == nil, !(value >= 0 && value <= 255 && value == value.rounded()) { notAByte = (start + index / file.rowLength, value) }
                if negative == nil, value < 0 { negative = (start + index / file.rowLength, value) }
            }
        }
        if imageShape != nil, let (row, value) = largest > 1 ? notAByte : negative {
            throw DataError.corrupt(path: source, reason: "a 3-D array is read as images, with values in [0, 1] or whole numbers 0...255 (then divided by 255); row \(row) holds \(value), and the values run from \(smallest) to \(largest)")
        }
        if imageShape != nil, largest > 1 { file = try NPYFile.rows(raw, scale: 1.0 / 255).file }
        return (DataRows(file: file, rowShape: [file.rowLength]), imageShape)
    }

    /// The MNIST training and test images in `folder`, pixels scaled to [0, 1]. The images stay
    /// in their files as bytes and are read a minibatch at a time; a `.gz` file is decompressed
    /// once to a cache file (see `DecompressedCache`), of which `notice` hears.
    public static func mnist(folder: String, notice: ((String) -> Void)? = nil) throws -> Dataset {
        func file(_ name: String) throws -> String {
            for candidate in [name, name + ".gz"] {
                let path = (folder as NSString).appendingPathComponent(candidate)
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            throw DataError.missing(path: (folder as NSString).appendingPathComponent(name + "[.gz]"))
        }
        let trainPath = try file("train-images-idx3-ubyte"), testPath = try file("t10k-images-idx3-ubyte")
        func images(_ path: String) throws -> (rows: DataRows, imageShape: [Int]) {
            let raw = DecompressedCache.isGzip(path) ? try DecompressedCache.file(for: path, notice: notice) : path
            let (file, rowShape) = try IDXFile.rows(raw, scale: 1.0 / 255)
            guard rowShape.count == 2 else { throw DataError.corrupt(path: path, reason: "IDX: rank \(rowShape.count + 1); image files have rank 3 (images x rows x columns)") }
            try checkRows(rows: file.rowCount, numbersPerRow: file.rowLength, shape: [file.rowCount] + rowShape, path: path)
            return (DataRows(file: file, rowShape: [file.rowLength]), rowShape)
        }
        let train = try images(trainPath), test = try images(testPath)
        guard train.imageShape == test.imageShape else {
            throw DataError.corrupt(path: folder, reason: "training images are \(train.imageShape[0]) x \(train.imageShape[1]) pixels, test images \(test.imageShape[0]) x \(test.imageShape[1])")
        }
        var dataset = Dataset(train: train.rows, test: test.rows, imageShape: train.imageShape, source: folder)
        if let trainLabelPath = try? file("train-labels-idx1-ubyte"), let testLabelPath = try? file("t10k-labels-idx1-ubyte") {
            dataset.trainLabels = try labels(trainLabelPath, count: train.rows.rowCount)
            dataset.testLabels = try labels(testLabelPath, count: test.rows.rowCount)
        }
        return dataset
    }

    /// The labels in the IDX file at `path`, one per image of the `count` it goes with.
    static func labels(_ path: String, count: Int) throws -> [Int] {
        let labels = try IDXFile.read(path)
        guard labels.rank == 1, labels.shape[0] == count else {
            throw DataError.corrupt(path: path, reason: "IDX labels of shape \(labels.shape) do not match the \(count) images beside them")
        }
        return labels.scalars.map { Int($0) }
    }
}

/// Data must have rows, and numbers in each row.
func checkRows(_ table: Tensor, path: String) throws {
    try checkRows(rows: table.rank == 2 ? table.shape[0] : 0, numbersPerRow: table.shape.last ?? 0, shape: table.shape, path: path)
}

/// `rows` rows of `numbersPerRow` numbers each (of the array `shape`) must be some of each.
func checkRows(rows: Int, numbersPerRow: Int, shape: [Int], path: String) throws {
    guard rows > 0 else { throw DataError.corrupt(path: path, reason: "the data have no rows") }
    guard numbersPerRow > 0 else { throw DataError.corrupt(path: path, reason: "the rows have no numbers (shape \(shape))") }
}

/// Binary images from grey levels in [0, 1].
public enum Binarization: String, Sendable {
    /// `x > 0.5` (MNIST's usual `pixel > 127`).
    case threshold
    /// A Bernoulli draw with the grey level as probability, redrawn every epoch.
    case stochastic

    /// The binarized rows.
    public func apply(_ x: Tensor, using generator: inout RandomGenerator) -> Tensor {
        var copy = x
        apply(to: &copy, using: &generator)
        return copy
    }

    /// Rows binarized once by a fixed stochastic draw (seed 0), as Burda et al. (2015) binarize
    /// their test set: the rows `train --binarize stochastic` holds out and `eval --binarize
    /// stochastic` scores. Each number's draw depends on its place only, so the first rows of a
    /// set are drawn as they are within the whole set.
    public static func fixedDraw(_ x: Tensor) -> Tensor {
        var generator = RandomGenerator(seed: 0)
        return stochastic.apply(x, using: &generator)
    }

    /// Binarizes `x` in place (without a second copy of a large data set when `x` is not shared).
    public func apply(to x: inout Tensor, using generator: inout RandomGenerator) {
        switch self {
        case .threshold:
            let count = x.count
            x.withMutableElements { p in for i in 0..<count { p[i] = p[i] > 0.5 ? 1 : 0 } }
        case .stochastic:
            x = Tensor.randomBernoulli(probabilities: x, using: &generator)
        }
    }
}

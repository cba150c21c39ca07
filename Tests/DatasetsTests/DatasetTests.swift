import CKernels
import Datasets
import Foundation
import TensorCore
import XCTest

/// Reading data files: gzip (every DEFLATE block type, against Python's gzip output), IDX,
/// CSV and NPY, and the error each corrupt file gives.
final class DatasetTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: folder) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func bytes(_ base64: String) -> [UInt8] { [UInt8](Data(base64Encoded: base64)!) }

    func testGzipDecompressesEveryBlockType() throws {
        for (compressed, crc, length) in [(GzipFixtures.fixed, GzipFixtures.fixedCRC, GzipFixtures.fixedLength),
                                          (GzipFixtures.dynamic, GzipFixtures.dynamicCRC, GzipFixtures.dynamicLength),
                                          (GzipFixtures.stored, GzipFixtures.storedCRC, GzipFixtures.storedLength)] {
            let output = try Gzip.decompress(bytes(compressed), path: "fixture")
            XCTAssertEqual(output.count, length)
            XCTAssertEqual(output.withUnsafeBufferPointer { latent_crc32(0, $0.baseAddress, Int64($0.count)) }, crc)
        }
        XCTAssertEqual(String(decoding: try Gzip.decompress(bytes(GzipFixtures.fixed), path: "f"), as: UTF8.self), String(repeating: "Latent reads gzip files. ", count: 3))
    }

    func testDamagedGzipIsAnErrorNamingTheFile() throws {
        var damaged = bytes(GzipFixtures.dynamic)
        damaged[damaged.count / 2] ^= 0x40
        XCTAssertThrowsError(try Gzip.decompress(damaged, path: "images.gz")) { error in
            XCTAssertTrue("\(error)".hasPrefix("images.gz: gzip: "), "\(error)")
        }
        let truncated = Array(bytes(GzipFixtures.dynamic).prefix(200))
        XCTAssertThrowsError(try Gzip.decompress(truncated, path: "images.gz")) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
    }

    func testIDXRawAndCompressed() throws {
        let raw = try Gzip.decompress(bytes(GzipFixtures.idx), path: "idx")
        for path in [try write("images-idx3-ubyte", raw), try write("images-idx3-ubyte.gz", bytes(GzipFixtures.idx))] {
            let images = try IDXFile.read(path)
            XCTAssertEqual(images.shape, [3, 2, 2])
            XCTAssertEqual(images.scalars, (0..<12).map(Float.init))
        }
    }

    func testCorruptIDXFiles() throws {
        let raw = try Gzip.decompress(bytes(GzipFixtures.idx), path: "idx")
        let short = try write("short-idx", Array(raw.dropLast(3)))
        XCTAssertThrowsError(try IDXFile.read(short)) { error in
            XCTAssertEqual("\(error)", "\(short): IDX: the header promises 3 x 2 x 2 = 12 bytes of data, the file has 9")
        }
        var wrongMagic = raw
        wrongMagic[0] = 7
        let magic = try write("magic-idx", wrongMagic)
        XCTAssertThrowsError(try IDXFile.read(magic)) { error in
            XCTAssertEqual("\(error)", "\(magic): IDX: bad magic number (expected 0x0000 then a type and a rank)")
        }
        XCTAssertThrowsError(try IDXFile.read(folder.appendingPathComponent("absent").path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("absent: no such file or folder"))
        }
    }

    func testCSVWithAndWithoutHeaderAndItsErrors() throws {
        let withHeader = try write("a.csv", Array("x0,x1\n1,2\n3.5,-4\n".utf8))
        XCTAssertEqual(try CSVFile.read(withHeader).values.scalars, [1, 2, 3.5, -4])
        XCTAssertEqual(try CSVFile.read(withHeader).columns, ["x0", "x1"])
        let plain = try write("b.csv", Array("1,2\n3,4\n\n".utf8))
        XCTAssertEqual(try CSVFile.read(plain).values.shape, [2, 2])
        let ragged = try write("c.csv", Array("1,2\n3,4,5\n".utf8))
        XCTAssertThrowsError(try CSVFile.read(ragged)) { error in
            XCTAssertEqual("\(error)", "\(ragged):2: 3 values where the rows above have 2")
        }
        let nan = try write("d.csv", Array("1,2\n3,inf\n".utf8))
        XCTAssertThrowsError(try CSVFile.read(nan)) { error in
            XCTAssertEqual("\(error)", "\(nan):2:2: 'inf', not a number in column 'column 2'; remove or fill in that row")
        }
        let text = try write("e.csv", Array("1,2\n3,four\n".utf8))
        XCTAssertThrowsError(try CSVFile.read(text)) { error in
            XCTAssertEqual("\(error)", "\(text):2:2: 'four', not a number in column 'column 2'; remove or fill in that row")
        }
        let missing = try write("f.csv", Array("a,b\n1,2\n3,NA\n".utf8))
        XCTAssertThrowsError(try CSVFile.read(missing)) { error in
            XCTAssertEqual("\(error)", "\(missing):3:2: a missing value ('NA') in column 'b'; remove or fill in that row")
        }
        // A run keeps its columns by name: a name the header gives two kept columns is refused,
        // chosen or not; two text columns of one name are left out as before.
        let twice = try write("g.csv", Array("a,a,b,y\n1,2,3,4\n5,6,7,8\n".utf8))
        for columns in [nil, ["a", "y"]] {
            XCTAssertThrowsError(try CSVFile.read(twice, columns: columns)) { error in
                XCTAssertEqual("\(error)", "\(twice): CSV: the header names columns 1 and 2 'a'; rename one, so that each column has a name of its own")
            }
        }
        XCTAssertEqual(try CSVFile.read(twice, columns: ["b", "y"]).values.scalars, [3, 4, 7, 8])
        let labels = try write("h.csv", Array("x,k,k\n1,p,q\n2,r,s\n".utf8))
        XCTAssertEqual(try CSVFile.read(labels).columns, ["x"])
        let besideText = try write("i.csv", Array("x,note,x\n1,a,b\n2,c,d\n".utf8))
        XCTAssertEqual(try CSVFile.read(besideText).columns, ["x"], "the text column of the same name is left out")
        let trailing = try write("l.csv", Array("x,y,\n1,2,\n3,4,\n".utf8))
        XCTAssertEqual(try CSVFile.read(trailing).values.scalars, [1, 2, 3, 4])
        XCTAssertEqual(try CSVFile.read(trailing).skipped, ["the empty column 3 (commas at the ends of the lines)"])
        let utf16 = try write("k.csv", [0xFF, 0xFE] + Array("x,y\n1,2\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        XCTAssertThrowsError(try CSVFile.read(utf16)) { error in
            XCTAssertEqual("\(error)", "\(utf16): CSV: the file is in UTF-16; save it as UTF-8 (or ASCII)")
        }
        // Values separated by semicolons or tabs read as one text column; the error says so.
        for (separator, name) in [(";", "semicolons"), ("\t", "tabs")] {
            let other = try write("j.csv", Array("x\(separator)y\n1\(separator)2\n3\(separator)4\n".utf8))
            XCTAssertThrowsError(try CSVFile.read(other)) { error in
                XCTAssertEqual("\(error)", "\(other): CSV: no column of numbers (left out: 'column 1' (text)); its values seem separated by \(name), and a CSV file here separates them by commas")
            }
        }
    }

    /// R's `write.csv(faithful)`: quoted names, and a first column of quoted row names under an
    /// empty header, which is not a feature.
    func testRStyleCSVWithRowNames() throws {
        let path = try write("faithful.csv", Array("\"\",\"eruptions\",\"waiting\"\n\"1\",3.6,79\n\"2\",1.8,54\n\"3\",3.333,74\n".utf8))
        let table = try CSVFile.read(path)
        XCTAssertEqual(table.columns, ["eruptions", "waiting"])
        XCTAssertEqual(table.values.scalars, [3.6, 79, 1.8, 54, 3.333, 74])
        XCTAssertEqual(table.skipped, ["the unnamed first column (row names)"])
    }

    /// pandas' `DataFrame(array).to_csv(...)`: the header holds the columns' numbers, which were
    /// read as a first row of data (a point at (0, 1, 2, 3) trained on, with no note); with the
    /// index, the missing value under the empty name was blamed. Rows that merely count up are
    /// data when nothing marks them as a header.
    func testPandasHeaderOfColumnNumbers() throws {
        let plain = try write("plain.csv", Array("0,1,2,3\n0.5,1.5,2.5,3.5\n4,5,6,7\n".utf8))
        let table = try CSVFile.read(plain)
        XCTAssertEqual(table.columns, ["0", "1", "2", "3"])
        XCTAssertEqual(table.values.scalars, [0.5, 1.5, 2.5, 3.5, 4, 5, 6, 7])
        XCTAssertEqual(table.skipped, ["line 1, the columns' numbers (0,1,2,3, as pandas writes a header for unnamed columns)"])
        let indexed = try write("indexed.csv", Array(",0,1\n0,0.25,3\n1,0.75,4\n".utf8))
        let withIndex = try CSVFile.read(indexed)
        XCTAssertEqual(withIndex.columns, ["0", "1"])
        XCTAssertEqual(withIndex.values.scalars, [0.25, 3, 0.75, 4])
        let pairs = try write("pairs.csv", Array("0,1\n1,1\n0,0\n".utf8))
        XCTAssertEqual(try CSVFile.read(pairs).values.shape, [3, 2], "two binary columns whose first row is 0,1")
        let gap = try write("gap.csv", Array("0,2,3\n1,1,1\n".utf8))
        XCTAssertEqual(try CSVFile.read(gap).values.shape, [2, 3])
        // Whole numbers that count up, numbering from 1, and a missing first value stay data
        // (the last an error, as before).
        for (name, text, shape) in [("counts.csv", "0,1,2\n3,4,5\n6,7,8\n", [3, 3]), ("ones.csv", "1,2,3\n0.5,4,5\n", [2, 3])] {
            XCTAssertEqual(try CSVFile.read(try write(name, Array(text.utf8))).values.shape, shape, name)
        }
        XCTAssertThrowsError(try CSVFile.read(try write("missing.csv", Array(",1,2\n3,4,5\n6,7,8\n".utf8))))
    }

    /// pandas' `iris.to_csv()`: an index column, numbers, and a text column left out and named;
    /// `columns` picks others. Quoted fields may hold commas and doubled quotes.
    func testPandasStyleCSVWithATextColumn() throws {
        let lines = [",sepal_length,sepal_width,species", "0,5.1,3.5,setosa", "1,7.0,3.2,\"versicolor, \"\"large\"\"\"", "2,6.3,3.3,virginica"]
        let path = try write("iris.csv", Array(lines.joined(separator: "\r\n").utf8))
        let table = try CSVFile.read(path)
        XCTAssertEqual(table.columns, ["sepal_length", "sepal_width"])
        XCTAssertEqual(table.values.shape, [3, 2])
        XCTAssertEqual(table.skipped, ["the unnamed first column (row names)", "'species' (text)"])
        XCTAssertEqual(try CSVFile.read(path, columns: ["sepal_width"]).values.scalars, [3.5, 3.2, 3.3])
        XCTAssertThrowsError(try CSVFile.read(path, columns: ["petal_length"])) { error in
            XCTAssertEqual("\(error)", "\(path): CSV: no column 'petal_length' (the columns are sepal_length, sepal_width, species)")
        }
        let headless = try write("headless.csv", Array("5.1,3.5,setosa\n7.0,3.2,versicolor\n".utf8))
        XCTAssertEqual(try CSVFile.read(headless).values.scalars, [5.1, 3.5, 7.0, 3.2], "a text column in every row is not a header")
        // Text in the first row of a column of numbers is a value to fix, not a text column
        // (the column was left out, with a note, while the same text a row lower was an error).
        let mixed = try write("mixed.csv", Array("a,b\n?,1\n1_000,2\n3,2\n".utf8))
        XCTAssertThrowsError(try CSVFile.read(mixed)) { error in
            XCTAssertEqual("\(error)", "\(mixed):2:1: '?' on line 2, '1_000' on line 3: not numbers in column 'a', which holds numbers further down ('3' on line 4); remove or fill in those rows, or leave the column out with --columns")
        }
        // A header above a bad first row: both are named (the header alone was blamed).
        let headed = try write("headed.csv", Array("x\n0x10\n3\n4\n".utf8))
        XCTAssertThrowsError(try CSVFile.read(headed)) { error in
            XCTAssertEqual("\(error)", "\(headed):1:1: 'x' on line 1, '0x10' on line 2: not numbers in column 'column 1', which holds numbers further down ('3' on line 3); remove or fill in those rows, or leave the column out with --columns")
        }
        let single = try write("single.csv", Array("a,b\n?,1\n3,2\n".utf8))
        XCTAssertThrowsError(try CSVFile.read(single)) { error in
            XCTAssertEqual("\(error)", "\(single):2:1: '?', not a number in column 'a', which holds numbers further down ('3' on line 3); remove or fill in that row, or leave the column out with --columns")
        }
        XCTAssertEqual(try CSVFile.read(mixed, columns: ["b"]).values.scalars, [1, 2, 2], "unless it is left out")
        // Only decimal numbers are numbers: names and hexadecimal identifiers are text.
        let names = try write("names.csv", Array("x,name,id\n1,Nan,0x1F\n2,Bob,0x20\n3,Inf,0x21\n".utf8))
        let named = try CSVFile.read(names)
        XCTAssertEqual(named.values.scalars, [1, 2, 3])
        XCTAssertEqual(named.skipped, ["'name' (text)", "'id' (text)"])
    }

    func npy(_ descr: String, shape: String, payload: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape)), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let length = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8) + payload
    }

    func testNPYFloat32Float64AndBytes() throws {
        let floats: [Float] = [1.5, -2, 3, 4.25, 0, 7]
        let f4 = floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        XCTAssertEqual(try NPYFile.read(try write("a.npy", npy("<f4", shape: "2, 3", payload: f4))).scalars, floats)
        let f8 = floats.flatMap { withUnsafeBytes(of: Double($0).bitPattern.littleEndian, Array.init) }
        XCTAssertEqual(try NPYFile.read(try write("b.npy", npy("<f8", shape: "6,", payload: f8))).shape, [6])
        let images = try NPYFile.read(try write("c.npy", npy("|u1", shape: "2, 2, 3", payload: Array(0..<12))))
        XCTAssertEqual(images.shape, [2, 2, 3])
        let short = try write("d.npy", npy("<f4", shape: "2, 3", payload: Array(f4.dropLast(4))))
        XCTAssertThrowsError(try NPYFile.read(short)) { error in
            XCTAssertEqual("\(error)", "\(short): NPY: shape [2, 3] needs 24 bytes of data, the file has 20")
        }
        // An order that is neither True nor False leaves the layout unknown (1 was read as C order).
        let one = try write("f.npy", Array(npy("<f4", shape: "2, 3", payload: f4)).replacing(Array("False".utf8), with: Array("1    ".utf8)))
        XCTAssertThrowsError(try NPYFile.read(one)) { error in
            XCTAssertEqual("\(error)", "\(one): NPY: 'fortran_order' is '1', not True or False, so the order of the values is unknown")
        }
        // The order may be the header's last key, before the closing brace and the padding.
        var last = "{'descr': '<f4', 'shape': (2, 3), 'fortran_order': False}"
        while (10 + last.count + 1) % 64 != 0 { last += " " }
        let lastKey = try write("g.npy", [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(last.count + 1), 0] + Array((last + "\n").utf8) + f4)
        XCTAssertEqual(try NPYFile.read(lastKey).scalars, floats)
        // A repeated key means its last value, as in Python.
        var repeated = "{'descr': '<f4', 'fortran_order': False, 'fortran_order': True, 'shape': (2, 3), }"
        while (10 + repeated.count + 1) % 64 != 0 { repeated += " " }
        let twice = try write("h.npy", [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(repeated.count + 1), 0] + Array((repeated + "\n").utf8) + f4)
        XCTAssertThrowsError(try NPYFile.read(twice)) { error in
            XCTAssertEqual("\(error)", "\(twice): NPY: Fortran-ordered arrays are not supported; save with C order")
        }
        // NumPy's default integers (counts) and booleans (masks) were refused.
        let counts: [Int64] = [0, 3, -2, 16_777_216]
        let i8 = counts.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        XCTAssertEqual(try NPYFile.read(try write("e.npy", npy("<i8", shape: "2, 2", payload: i8))).scalars, [0, 3, -2, 16_777_216])
        let i4 = counts.flatMap { withUnsafeBytes(of: Int32($0).littleEndian, Array.init) }
        XCTAssertEqual(try NPYFile.read(try write("i.npy", npy("<i4", shape: "4,", payload: i4))).scalars, [0, 3, -2, 16_777_216])
        XCTAssertEqual(try NPYFile.read(try write("j.npy", npy("|b1", shape: "3,", payload: [1, 0, 1]))).scalars, [1, 0, 1])
        let half = try write("k.npy", npy("<f2", shape: "1,", payload: [0, 0]))
        XCTAssertThrowsError(try NPYFile.read(half)) { error in
            XCTAssertEqual("\(error)", "\(half): NPY: element type <f2 is not float32, float64, uint8, int32, int64 or bool")
        }
    }

    /// A 3-D array is images: whole numbers 0...255 are divided by 255, values in [0, 1] kept,
    /// and anything else refused naming the row (one value of 1.01 among 0/1 images was divided
    /// by 255 with the rest, which made every image black).
    func testNPYImagesAreBytesOrUnitValues() throws {
        func images(_ name: String, _ values: [Float]) throws -> String {
            try write(name, npy("<f4", shape: "\(values.count / 4), 2, 2", payload: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
        }
        let bytes = (0..<40).map { Float($0 * 37 % 256) }
        let values = { (data: Dataset) in try data.train.tensor().scalars + data.test.tensor().scalars }
        XCTAssertEqual(Set(try values(Dataset.load(try images("bytes.npy", bytes)))), Set(bytes.map { $0 * Float(1.0 / 255) }))
        // One channel, last or first, is the same images; more channels, or more axes, are refused.
        for shape in ["10, 2, 2, 1", "10, 1, 2, 2"] {
            let channel = try write("channel.npy", npy("<f4", shape: shape, payload: bytes.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
            let data = try Dataset.load(channel)
            XCTAssertEqual(data.imageShape, [2, 2], shape)
            XCTAssertEqual(Set(try values(data)), Set(bytes.map { $0 * Float(1.0 / 255) }), shape)
        }
        let colour = try write("colour.npy", npy("<f4", shape: "5, 2, 2, 2", payload: bytes.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }))
        XCTAssertThrowsError(try Dataset.load(colour)) { error in
            XCTAssertEqual("\(error)", "\(colour): a 4-D array of shape [5, 2, 2, 2]: a 3-D array (N, H, W) is read as images, as is a 4-D one of one channel, (N, H, W, 1) or (N, 1, H, W), and a 2-D one as rows of numbers; reshape it to one of those")
        }
        let unit = (0..<40).map { Float($0 % 2) * 0.75 * ($0 == 4 ? -1 : 1) }
        XCTAssertEqual(Set(try values(Dataset.load(try images("unit.npy", unit)))), [0, 0.75])
        for (name, bad, row, lifted) in [("over.npy", Float(1.01), 3, false), ("fraction.npy", Float(2.5), 7, false), ("large.npy", Float(1000), 9, false),
                                         ("negative.npy", Float(-3), 5, true), ("below.npy", Float(-0.5), 6, false), ("tiny.npy", -Float.leastNonzeroMagnitude, 2, false)] {
            var values = (0..<40).map { Float($0 % 2) }
            values[row * 4 + 1] = bad
            if lifted { values[0] = 2 }
            let path = try images(name, values)
            XCTAssertThrowsError(try Dataset.load(path)) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path): "), "\(error)")
                XCTAssertTrue("\(error)".contains("row \(row) holds \(bad)"), "\(error)")
            }
        }
    }

    func testImageFolderAndBinarization() throws {
        let raw = try Gzip.decompress(bytes(GzipFixtures.idx), path: "idx")
        _ = try write("train-images-idx3-ubyte.gz", bytes(GzipFixtures.idx))
        _ = try write("t10k-images-idx3-ubyte", raw)
        var notices: [String] = []
        let data = try Dataset.load(folder.path, notice: { notices.append($0) })
        XCTAssertTrue(data.train.isOnDisk)
        XCTAssertEqual(data.train.rowCount, 3)
        XCTAssertEqual(try data.train.tensor().shape, [3, 4])
        XCTAssertEqual(data.imageShape, [2, 2])
        XCTAssertEqual(try data.train.tensor().scalars.last!, 11 / 255, accuracy: 1e-7)
        let cacheName = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasPrefix("train-images-idx3-ubyte.") && $0.hasSuffix(".decompressed") })
        let cache = folder.appendingPathComponent(cacheName).path
        XCTAssertEqual(notices, ["decompressing \(folder.appendingPathComponent("train-images-idx3-ubyte.gz").path) once to \(cache) (later runs read it from there)"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: cache)), Data(raw))
        _ = try Dataset.load(folder.path, notice: { notices.append($0) })
        XCTAssertEqual(notices.count, 1, "the second load reads the cache")
        var generator = RandomGenerator(seed: 1)
        let grey = Tensor([0.2, 0.5, 0.51, 0.9])
        XCTAssertEqual(Binarization.threshold.apply(grey, using: &generator).scalars, [0, 0, 1, 1])
        XCTAssertTrue(Binarization.stochastic.apply(grey, using: &generator).scalars.allSatisfy { $0 == 0 || $0 == 1 })
    }
}

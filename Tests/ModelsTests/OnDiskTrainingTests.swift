import Foundation
import Latent
import LatentCommandLine
import LatentModels
import XCTest

/// Training on rows left on disk (read a minibatch at a time, converted from bytes) ends with
/// the same parameters, bit for bit, as training on the same rows in memory.
final class OnDiskTrainingTests: XCTestCase {
    func testTrainingFromDiskEqualsTrainingInMemory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("latent-disk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = RandomGenerator(seed: 8)
        func idx(_ images: Int) -> [UInt8] {
            [0, 0, 8, 3] + [images, 6, 6].flatMap { withUnsafeBytes(of: UInt32($0).bigEndian, Array.init) }
                + (0..<(images * 36)).map { i in UInt8(truncatingIfNeeded: generator.next() % 256) & (i % 7 == 0 ? 0 : 0xFF) }
        }
        let train = idx(250)
        try Data(train).write(to: folder.appendingPathComponent("train-images-idx3-ubyte"))
        try Data(idx(40)).write(to: folder.appendingPathComponent("t10k-images-idx3-ubyte"))
        let onDisk = try Dataset.load(folder.path)
        XCTAssertTrue(onDisk.train.isOnDisk)
        let inMemory = try IDXFile.parse(train, source: "train", scale: 1.0 / 255).reshaped(to: [250, 36])
        let settings = ModelSettings(dataSize: 36, values: ["latent-dim": 3, "hidden": 16])
        var options = TrainingOptions(epochs: 3, batchSize: 32, optimizer: .adam(learningRate: 3e-3))
        options.seed = 5
        let stochastic: (Tensor, inout RandomGenerator) -> Tensor = { Binarization.stochastic.apply($0, using: &$1) }
        for transform in [nil, stochastic] {
            let rows = transform == nil ? onDisk.train.thresholded() : onDisk.train
            let memoryRows = transform == nil ? Binarization.threshold.apply(inMemory, using: &generator) : inMemory
            let fromDisk = Amortized(ModelCatalog.bernoulliVAE.build(settings), options: ModelCatalog.bernoulliVAE.compilerOptions(settings))
            let fromMemory = Amortized(ModelCatalog.bernoulliVAE.build(settings), options: ModelCatalog.bernoulliVAE.compilerOptions(settings))
            let diskReports = try fromDisk.fit(rows, heldOut: onDisk.test.thresholded(), options: options, transform: transform)
            let memoryReports = try fromMemory.fit(memoryRows, heldOut: try onDisk.test.thresholded().tensor(), options: options, transform: transform)
            XCTAssertEqual(diskReports.map(\.trainELBO), memoryReports.map(\.trainELBO))
            XCTAssertEqual(diskReports.map(\.heldOutELBO), memoryReports.map(\.heldOutELBO))
            XCTAssertLessThan(diskReports[2].trainELBO - diskReports[0].trainELBO, 100, "finite and training")
            for (disk, memory) in [(fromDisk.parameters, fromMemory.parameters), (fromDisk.guideParameters, fromMemory.guideParameters)] {
                XCTAssertEqual(disk.names, memory.names)
                for name in disk.names { XCTAssertEqual(disk[name]?.scalars, memory[name]?.scalars, name) }
            }
        }
    }
}

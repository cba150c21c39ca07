/// A 64-bit FNV-1a hash of bytes, numbers, names and tensors' bits: a fingerprint to tell
/// whether two things are the same, not a checksum against damage.
package struct Fingerprint {
    package private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    package init() {}

    package mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }

    package mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }

    package mutating func add(_ number: Int) { withUnsafeBytes(of: number.littleEndian) { add($0) } }

    package mutating func add(_ text: String) { add(Array(text.utf8)) }

    package mutating func add(_ tensor: Tensor) {
        add(tensor.count)
        tensor.withElements { add(UnsafeRawBufferPointer(start: $0, count: tensor.count * MemoryLayout<Float>.stride)) }
    }
}

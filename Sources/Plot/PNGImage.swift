import CKernels
import Foundation
import TensorCore

/// An 8-bit greyscale PNG image, compressed by our own small DEFLATE encoder.
public struct PNGImage {
    public let width: Int
    public let height: Int
    /// Grey levels row by row, 0 black to 255 white.
    public var pixels: [UInt8]

    /// A `width x height` image of grey level `fill`.
    public init(width: Int, height: Int, fill: UInt8 = 255) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: fill, count: width * height)
    }

    /// A grid of `images` (rows of `imageShape[0] * imageShape[1]` values in [0, 1], black on
    /// white when `invert`), `columns` per row, each pixel drawn as a `scale x scale` square, the
    /// images separated by a grey gutter `gap` pixels wide.
    public static func grid(_ images: Tensor, imageShape: [Int], columns: Int, scale: Int = 3, gap: Int = 2, invert: Bool = false) -> PNGImage {
        let (h, w) = (imageShape[0] * scale, imageShape[1] * scale)
        let count = images.shape.first ?? 0
        let columns = Swift.max(Swift.min(columns, count), 1)
        let rows = (count + columns - 1) / columns
        var image = PNGImage(width: columns * (w + gap) + gap, height: rows * (h + gap) + gap, fill: 200)
        let values = images.scalars
        for n in 0..<count {
            let (top, left) = (gap + (n / columns) * (h + gap), gap + (n % columns) * (w + gap))
            for y in 0..<h {
                for x in 0..<w {
                    let raw = values[n * imageShape[0] * imageShape[1] + (y / scale) * imageShape[1] + x / scale]
                    let value = raw.isNaN ? 0 : Swift.min(Swift.max(raw, 0), 1)
                    image.pixels[(top + y) * image.width + left + x] = UInt8(((invert ? 1 - value : value) * 255).rounded())
                }
            }
        }
        return image
    }

    /// The PNG file's bytes: each row filtered as the difference from the row above (PNG's
    /// "up" filter, so that repeated rows become runs of zeros), then compressed.
    public func encoded() -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            raw.append(2)
            for x in 0..<width {
                let above = y > 0 ? pixels[(y - 1) * width + x] : 0
                raw.append(pixels[y * width + x] &- above)
            }
        }
        var zlib: [UInt8] = [0x78, 0x01]
        zlib += Deflate.compress(raw)
        zlib += bigEndian(adler32(raw))
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        file += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 0, 0, 0, 0])
        file += chunk("IDAT", zlib)
        file += chunk("IEND", [])
        return file
    }

    /// Writes the image to `path`.
    public func write(to path: String) throws {
        try AtomicFile.write(Data(encoded()), to: path)
    }

    private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { latent_crc32(0, $0.baseAddress, Int64($0.count)) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
    }

    private func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }

    /// Adler-32 (RFC 1950) of `bytes`.
    func adler32(_ bytes: [UInt8]) -> UInt32 {
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }
}

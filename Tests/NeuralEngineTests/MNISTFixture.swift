import Foundation
import NeuralEngine
import TestSupport

/// Reads the real MNIST idx files of the test mirror (gzip, decompressed with `gunzip -c`),
/// independently of the MNIST module.
enum MNISTFixture {
  struct Split {
    var images: [Float]  // [N, 784], scaled to [0, 1]
    var labels: [Int]
  }

  static func load(_ name: String, from mirror: URL) throws -> Split {
    let images = try gunzip(mirror.appendingPathComponent("\(name)-images-idx3-ubyte.gz"))
    let labels = try gunzip(mirror.appendingPathComponent("\(name)-labels-idx1-ubyte.gz"))
    let count = Int(bigEndian32(labels, at: 4))
    return Split(
      images: images[16..<(16 + count * 784)].map { Float($0) / 255 },
      labels: labels[8..<(8 + count)].map { Int($0) }
    )
  }

  private static func bigEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
  }

  private static func gunzip(_ url: URL) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "gunzip -c \"$0\"", url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return [UInt8](data)
  }
}

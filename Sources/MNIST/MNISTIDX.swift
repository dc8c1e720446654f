// MARK: - idx parsing

/// Parsers for the idx format of the decompressed MNIST files: a big-endian header (magic,
/// then one 32-bit extent per dimension) followed by unsigned bytes.
public enum MNISTIDX {
  /// The side of an MNIST image in pixels.
  public static let imageSide = 28

  /// The pixels of an idx3 images file, `count × 28 × 28` bytes in C order.
  ///
  /// - Parameters:
  ///   - bytes: the whole decompressed file.
  ///   - file: the file's name or path, for errors.
  ///   - expectedCount: the number of images the file must declare.
  /// - Throws: ``MNISTError`` for a wrong magic number, dimensions, count or length.
  public static func parseImages(
    _ bytes: [UInt8],
    file: String,
    expectedCount: Int
  )
    throws(MNISTError) -> [UInt8]
  {
    let header = try readHeader(bytes, file: file, magic: 2051, dimensionCount: 3)
    let side = imageSide
    guard header[1] == side, header[2] == side else {
      throw .wrongDimensions(file: file, expected: [side, side], found: [header[1], header[2]])
    }
    try checkCount(header[0], expectedCount, file: file)
    let headerLength = 16
    try checkLength(bytes, expected: headerLength + expectedCount * side * side, file: file)
    return Array(bytes[headerLength...])
  }

  /// The labels of an idx1 labels file, each checked to lie in 0...9.
  ///
  /// - Parameters:
  ///   - bytes: the whole decompressed file.
  ///   - file: the file's name or path, for errors.
  ///   - expectedCount: the number of labels the file must declare.
  /// - Throws: ``MNISTError`` for a wrong magic number, count or length, or a label > 9.
  public static func parseLabels(
    _ bytes: [UInt8],
    file: String,
    expectedCount: Int
  )
    throws(MNISTError) -> [UInt8]
  {
    let header = try readHeader(bytes, file: file, magic: 2049, dimensionCount: 1)
    try checkCount(header[0], expectedCount, file: file)
    let headerLength = 8
    try checkLength(bytes, expected: headerLength + expectedCount, file: file)
    let labels = Array(bytes[headerLength...])
    if let index = labels.firstIndex(where: { $0 > 9 }) {
      throw .labelOutOfRange(file: file, index: index, value: labels[index])
    }
    return labels
  }

  // MARK: Header

  /// The declared extents, after checking the magic number.
  private static func readHeader(
    _ bytes: [UInt8],
    file: String,
    magic: UInt32,
    dimensionCount: Int
  ) throws(MNISTError) -> [Int] {
    let headerLength = 4 * (1 + dimensionCount)
    guard bytes.count >= 4 else {
      throw .wrongLength(file: file, expected: headerLength, actual: bytes.count)
    }
    let found = bigEndianWord(bytes, at: 0)
    guard found == magic else { throw .notIDX(file: file, expectedMagic: magic, foundMagic: found) }
    guard bytes.count >= headerLength else {
      throw .wrongLength(file: file, expected: headerLength, actual: bytes.count)
    }
    return (1...dimensionCount).map { Int(bigEndianWord(bytes, at: 4 * $0)) }
  }

  private static func bigEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
  }

  private static func checkCount(_ found: Int, _ expected: Int, file: String) throws(MNISTError) {
    guard found == expected else { throw .wrongCount(file: file, expected: expected, found: found) }
  }

  private static func checkLength(
    _ bytes: [UInt8],
    expected: Int,
    file: String
  )
    throws(MNISTError)
  {
    guard bytes.count == expected else {
      throw .wrongLength(file: file, expected: expected, actual: bytes.count)
    }
  }
}

import MNIST
import Testing

/// idx parsing accepts well-formed files and names every kind of damage.
@Suite struct MNISTIDXTests {
  @Test func parsesImagesAndLabels() throws {
    let pixels = try MNISTIDX.parseImages(IDXFixtures.images(count: 3), file: "i", expectedCount: 3)
    #expect(pixels.count == 3 * 784)
    #expect(
      pixels[0] == 0 && pixels[255] == 255 && pixels[256] == 0 && pixels.last == UInt8(2351 % 256)
    )
    let labels = try MNISTIDX.parseLabels(
      IDXFixtures.labels([0, 9, 4]),
      file: "l",
      expectedCount: 3
    )
    #expect(labels == [0, 9, 4])
  }

  @Test func badMagic() {
    #expect(throws: MNISTError.notIDX(file: "x", expectedMagic: 2051, foundMagic: 2049)) {
      try MNISTIDX.parseImages(IDXFixtures.labels([1, 2]), file: "x", expectedCount: 2)
    }
    #expect(throws: MNISTError.notIDX(file: "y", expectedMagic: 2049, foundMagic: 0x1F8B_0800)) {
      try MNISTIDX.parseLabels([0x1F, 0x8B, 8, 0, 1, 2, 3, 4], file: "y", expectedCount: 1)
    }
  }

  @Test func truncatedAndPaddedFiles() {
    let images = IDXFixtures.images(count: 2)
    #expect(
      throws: MNISTError.wrongLength(file: "i", expected: 16 + 2 * 784, actual: images.count - 1)
    ) {
      try MNISTIDX.parseImages(Array(images.dropLast()), file: "i", expectedCount: 2)
    }
    #expect(throws: MNISTError.wrongLength(file: "l", expected: 8 + 2, actual: 8 + 3)) {
      try MNISTIDX.parseLabels(
        IDXFixtures.labels([1, 2, 3], declaredCount: 2),
        file: "l",
        expectedCount: 2
      )
    }
    #expect(throws: MNISTError.wrongLength(file: "h", expected: 16, actual: 10)) {
      try MNISTIDX.parseImages(Array(images.prefix(10)), file: "h", expectedCount: 2)
    }
    #expect(throws: MNISTError.self) { try MNISTIDX.parseLabels([], file: "e", expectedCount: 0) }
  }

  @Test func wrongCount() {
    #expect(throws: MNISTError.wrongCount(file: "i", expected: 60_000, found: 2)) {
      try MNISTIDX.parseImages(IDXFixtures.images(count: 2), file: "i", expectedCount: 60_000)
    }
    #expect(throws: MNISTError.wrongCount(file: "l", expected: 3, found: 4)) {
      try MNISTIDX.parseLabels(IDXFixtures.labels([1, 2, 3, 4]), file: "l", expectedCount: 3)
    }
  }

  @Test func wrongDimensions() {
    #expect(throws: MNISTError.wrongDimensions(file: "i", expected: [28, 28], found: [32, 32])) {
      try MNISTIDX.parseImages(
        IDXFixtures.images(count: 1, rows: 32, columns: 32),
        file: "i",
        expectedCount: 1
      )
    }
  }

  @Test(arguments: [UInt8(10), 42, 255])
  func labelOutOfRange(bad: UInt8) {
    #expect(throws: MNISTError.labelOutOfRange(file: "l", index: 2, value: bad)) {
      try MNISTIDX.parseLabels(IDXFixtures.labels([0, 9, bad, 1]), file: "l", expectedCount: 4)
    }
  }

  @Test func descriptionsSayWhatAndHowToFix() {
    let truncated = MNISTError.wrongLength(
      file: "/d/train-images-idx3-ubyte",
      expected: 47_040_016,
      actual: 100
    )
    #expect(truncated.description.contains("/d/train-images-idx3-ubyte"))
    #expect(truncated.description.contains("47040016"))
    #expect(truncated.description.contains("100"))
    let unavailable = MNISTError.unavailable(file: "f", attempts: ["a: offline"])
    #expect(unavailable.description.contains("--mnist-mirror"))
    #expect(unavailable.description.contains("DBAL_MNIST_MIRROR"))
    let loader = MNISTError.invalidPreprocessedFile(file: "m.h5", problem: "bad")
    #expect(loader.description.contains("pipeline fetch mnist"))
  }
}

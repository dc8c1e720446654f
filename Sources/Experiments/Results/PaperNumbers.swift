import Acquisition

/// The numbers published in Gal, Islam & Ghahramani (2017), for side-by-side tables.
public enum PaperNumbers {
  /// Table 1: acquired images needed to reach 10% and 5% MNIST test error.
  public static let acquiredToError: [AcquisitionFunction: [Double: Int]] = [
    .bald: [10: 145, 5: 335],
    .varRatios: [10: 120, 5: 295],
    .maxEntropy: [10: 165, 5: 355],
    .meanSTD: [10: 230, 5: 695],
    .random: [10: 255, 5: 835],
  ]

  /// Table 2: test error (%) after 1000 acquired images with 5000 validation points.
  public static let errorAtEnd: [AcquisitionFunction: Double] = [
    .random: 4.66, .bald: 1.80, .maxEntropy: 1.74, .varRatios: 1.64,
  ]
}

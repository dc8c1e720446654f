/// The rectifier `y = max(x, 0)`, elementwise over `count` elements of any shape.
enum ReLU {
  /// `output[i] = max(input[i], 0)`; `output` may alias `input`.
  static func forward(
    input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    for index in 0..<count { output[index] = max(input[index], 0) }
  }

  /// `inputGradient[i] = output[i] > 0 ? outputGradient[i] : 0`, from the forward *output*;
  /// `inputGradient` may alias `outputGradient`.
  static func backward(
    output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>,
    inputGradient: UnsafeMutablePointer<Float>,
    count: Int
  ) {
    for index in 0..<count {
      inputGradient[index] = output[index] > 0 ? outputGradient[index] : 0
    }
  }
}

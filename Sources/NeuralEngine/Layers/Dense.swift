/// A fully connected layer with PyTorch's weight layout: `y = x · Wᵀ + b`.
///
/// Shapes: input `[N, I]`, weight `[O, I]`, bias `[O]`, output `[N, O]`, all row-major.
/// Both passes are single `dnnl_sgemm` calls.
enum Dense {
  /// `output[n, o] = Σ_i input[n, i] · weight[o, i] + bias[o]`; overwrites `output`.
  static func forward(
    input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>,
    batch: Int,
    inputs: Int,
    outputs: Int
  ) {
    for row in 0..<batch {
      (output + row * outputs).update(from: bias, count: outputs)
    }
    Matrix.multiply(
      transposeA: false,
      transposeB: true,
      m: batch,
      n: outputs,
      k: inputs,
      a: input,
      lda: inputs,
      b: weight,
      ldb: inputs,
      beta: 1,
      c: output,
      ldc: outputs
    )
  }

  /// Gradients of ``forward(input:weight:bias:output:batch:inputs:outputs:)``.
  ///
  /// Overwrites `weightGradient[O, I] = outputGradientᵀ · input`, `biasGradient[O]` (column sums
  /// of `outputGradient`) and, when given, `inputGradient[N, I] = outputGradient · weight`.
  static func backward(
    outputGradient: UnsafePointer<Float>,
    input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>,
    inputGradient: UnsafeMutablePointer<Float>?,
    weightGradient: UnsafeMutablePointer<Float>,
    biasGradient: UnsafeMutablePointer<Float>,
    batch: Int,
    inputs: Int,
    outputs: Int
  ) {
    Matrix.multiply(
      transposeA: true,
      transposeB: false,
      m: outputs,
      n: inputs,
      k: batch,
      a: outputGradient,
      lda: outputs,
      b: input,
      ldb: inputs,
      beta: 0,
      c: weightGradient,
      ldc: inputs
    )
    biasGradient.update(repeating: 0, count: outputs)
    for row in 0..<batch {
      let gradientRow = outputGradient + row * outputs
      for column in 0..<outputs { biasGradient[column] += gradientRow[column] }
    }
    if let inputGradient {
      Matrix.multiply(
        transposeA: false,
        transposeB: false,
        m: batch,
        n: inputs,
        k: outputs,
        a: outputGradient,
        lda: outputs,
        b: weight,
        ldb: inputs,
        beta: 0,
        c: inputGradient,
        ldc: inputs
      )
    }
  }
}

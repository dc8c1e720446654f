internal import CLAPACK

// The only file that calls LAPACK and BLAS. Every function takes and returns Swift types
// (row-major `Matrix` values), and turns LAPACK's `info` codes into `HarmonicError`s.

/// Dense linear algebra through LAPACKE and CBLAS.
enum LinearAlgebra {
  /// The linked LAPACK's version, e.g. "3.11.0".
  static var lapackVersion: String {
    var major: Int32 = 0
    var minor: Int32 = 0
    var patch: Int32 = 0
    LAPACKE_ilaver(&major, &minor, &patch)
    return "\(major).\(minor).\(patch)"
  }

  /// Replaces the symmetric positive-definite `a` by its inverse (`dpotrf` Cholesky, then
  /// `dpotri`), both triangles filled.
  ///
  /// - Throws: ``HarmonicError/notPositiveDefinite(what:order:)`` when the Cholesky factorisation
  ///   fails (a graph component without a labelled node, or weights that underflow).
  static func invertPositiveDefinite(_ a: inout Matrix, what: String) throws(HarmonicError) {
    precondition(
      a.rows == a.columns,
      "invertPositiveDefinite: \(a.rows)x\(a.columns) is not square"
    )
    let n = a.rows
    guard n > 0 else { return }
    let info = a.values.withUnsafeMutableBufferPointer { buffer -> Int32 in
      let factor = LAPACKE_dpotrf(
        LAPACK_ROW_MAJOR,
        Int8(UInt8(ascii: "L")),
        Int32(n),
        buffer.baseAddress,
        Int32(n)
      )
      guard factor == 0 else { return factor }
      return LAPACKE_dpotri(
        LAPACK_ROW_MAJOR,
        Int8(UInt8(ascii: "L")),
        Int32(n),
        buffer.baseAddress,
        Int32(n)
      )
    }
    guard info == 0 else { throw .notPositiveDefinite(what: what, order: Int(info)) }
    a.symmetriseFromLower()
  }

  /// Solves `a x = b` for the symmetric positive-definite `a` (`[m, m]`) and the `[m, k]`
  /// right-hand sides `b`, which are overwritten with `x` (`dposv`); `a` is left unchanged.
  static func solvePositiveDefinite(
    _ a: Matrix,
    _ b: inout Matrix,
    what: String
  ) throws(HarmonicError) {
    precondition(a.rows == a.columns && b.rows == a.rows, "solvePositiveDefinite: shapes")
    guard a.rows > 0, b.columns > 0 else { return }
    var factor = a.values
    let info = factor.withUnsafeMutableBufferPointer { af in
      b.values.withUnsafeMutableBufferPointer { bf in
        LAPACKE_dposv(
          LAPACK_ROW_MAJOR,
          Int8(UInt8(ascii: "L")),
          Int32(a.rows),
          Int32(b.columns),
          af.baseAddress,
          Int32(a.rows),
          bf.baseAddress,
          Int32(b.columns)
        )
      }
    }
    guard info == 0 else { throw .notPositiveDefinite(what: what, order: Int(info)) }
  }

  /// `c = alpha * op(a) * op(b) + beta * c`, where `op` transposes when asked (`dgemm`).
  static func multiply(
    _ a: Matrix,
    transposingA: Bool = false,
    _ b: Matrix,
    transposingB: Bool = false,
    alpha: Double = 1,
    beta: Double = 0,
    into c: inout Matrix
  ) {
    let (m, k) = transposingA ? (a.columns, a.rows) : (a.rows, a.columns)
    let (kb, n) = transposingB ? (b.columns, b.rows) : (b.rows, b.columns)
    precondition(k == kb && c.rows == m && c.columns == n, "multiply: shapes")
    guard m > 0, n > 0 else { return }
    a.values.withUnsafeBufferPointer { ap in
      b.values.withUnsafeBufferPointer { bp in
        c.values.withUnsafeMutableBufferPointer { cp in
          cblas_dgemm(
            CblasRowMajor,
            transposingA ? CblasTrans : CblasNoTrans,
            transposingB ? CblasTrans : CblasNoTrans,
            Int32(m),
            Int32(n),
            Int32(k),
            alpha,
            ap.baseAddress,
            Int32(a.columns),
            bp.baseAddress,
            Int32(b.columns),
            beta,
            cp.baseAddress,
            Int32(c.columns)
          )
        }
      }
    }
  }

  /// `y = alpha * a * x + beta * y` (`dgemv`).
  static func multiply(
    _ a: Matrix,
    vector x: [Double],
    alpha: Double = 1,
    beta: Double = 0,
    into y: inout [Double]
  ) {
    precondition(x.count == a.columns && y.count == a.rows, "multiply(vector:): shapes")
    guard a.rows > 0, a.columns > 0 else { return }
    a.values.withUnsafeBufferPointer { ap in
      x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
          cblas_dgemv(
            CblasRowMajor,
            CblasNoTrans,
            Int32(a.rows),
            Int32(a.columns),
            alpha,
            ap.baseAddress,
            Int32(a.columns),
            xp.baseAddress,
            1,
            beta,
            yp.baseAddress,
            1
          )
        }
      }
    }
  }
}

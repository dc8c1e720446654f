import Foundation
import Synchronization

/// Shared helpers for DBAL's test targets.
public enum TestSupport {
  /// The repository root (the folder holding Package.swift), found from this source file.
  public static var repositoryRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// The real MNIST mirror for tests: `DBAL_MNIST_MIRROR`, else `../shared/data/mnist` next to
  /// the checkout, else nil (tests that need real data are then skipped with a message).
  public static var mnistMirror: URL? {
    if let env = ProcessInfo.processInfo.environment["DBAL_MNIST_MIRROR"], !env.isEmpty {
      return URL(fileURLWithPath: env)
    }
    let sibling = repositoryRoot.deletingLastPathComponent().appendingPathComponent(
      "shared/data/mnist"
    )
    return FileManager.default.fileExists(atPath: sibling.path) ? sibling : nil
  }

  /// A fresh, empty temporary directory, unique per call, removed when the test process exits
  /// (so a test run leaves nothing behind even where a test forgets or fails to clean up).
  public static func temporaryDirectory(_ label: String = "dbal-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "\(label)-\(getpid())-\(UUID().uuidString)"
    )
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    TemporaryDirectories.register(url.path)
    return url
  }
}

/// Whether `a` and `b` agree within `absolute + relative * max(|a|, |b|)`.
public func isClose<T: BinaryFloatingPoint>(
  _ a: T,
  _ b: T,
  absolute: T = 1e-6,
  relative: T = 1e-5
) -> Bool {
  if a == b { return true }
  guard a.isFinite, b.isFinite else { return false }
  return abs(a - b) <= absolute + relative * max(abs(a), abs(b))
}

/// Whether two arrays agree elementwise within the given tolerance; nil if they do, else the
/// first differing index and values, for a readable failure message.
public func firstMismatch<T: BinaryFloatingPoint>(
  _ a: [T],
  _ b: [T],
  absolute: T = 1e-6,
  relative: T = 1e-5
) -> (index: Int, lhs: T, rhs: T)? {
  guard a.count == b.count else { return (-1, T(a.count), T(b.count)) }
  for i in a.indices where !isClose(a[i], b[i], absolute: absolute, relative: relative) {
    return (i, a[i], b[i])
  }
  return nil
}

/// The temporary directories of this test process, removed at exit.
private enum TemporaryDirectories {
  static let paths = Mutex<[String]?>(nil)

  static func register(_ path: String) {
    paths.withLock { paths in
      if paths == nil {
        paths = []
        atexit {
          for path in TemporaryDirectories.paths.withLock({ $0 ?? [] }) {
            try? FileManager.default.removeItem(atPath: path)
          }
        }
      }
      paths!.append(path)
    }
  }
}

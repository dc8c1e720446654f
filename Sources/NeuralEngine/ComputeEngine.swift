/// Runs ``BayesianCNN`` on the CPU with oneDNN: training, deterministic and Monte Carlo
/// dropout prediction.
///
/// An engine owns the oneDNN engine and stream and caches, per batch size, the compiled
/// primitives and buffers (creating a primitive runs oneDNN's JIT, so they are built once and
/// reused). It is a reference type because it owns those resources; it is not thread-safe: use
/// one engine per thread. oneDNN itself uses every core (OpenMP; set `OMP_NUM_THREADS` to
/// limit it), and the engine's hand-written kernels run on the same OpenMP threads.
public final class ComputeEngine {
  let context: DNNLContext
  private var workspaces: [WorkspaceKey: ModelWorkspace] = [:]
  private var recentlyUsed: [WorkspaceKey] = []
  /// How many batch sizes stay cached; active learning meets many last-batch sizes, and a
  /// training workspace of 128 images holds about 50 MB.
  private let cachedWorkspaceLimit = 6

  private struct WorkspaceKey: Hashable {
    var architecture: BayesianCNN.Architecture
    var batch: Int
    var training: Bool
  }

  /// Creates an engine on the CPU.
  /// - Throws: ``NeuralEngineError/oneDNN(operation:status:)`` if oneDNN cannot start.
  public init() throws {
    context = try DNNLContext()
  }

  /// The oneDNN version the engine runs on, e.g. "2.6.3".
  public static var oneDNNVersion: String { OneDNNLibrary.version }

  /// The implementation oneDNN dispatches the big convolution to on this machine (e.g.
  /// "jit:avx512_core"), which names the instruction set used.
  public func convolutionImplementation(
    for architecture: BayesianCNN.Architecture = .paper,
    batch: Int = 128
  ) throws -> String {
    try workspace(architecture: architecture, batch: batch, training: true).convolution
      .implementation
  }

  /// The cached workspace for a batch size, built on first use.
  func workspace(
    architecture: BayesianCNN.Architecture,
    batch: Int,
    training: Bool
  ) throws -> ModelWorkspace {
    let key = WorkspaceKey(architecture: architecture, batch: batch, training: training)
    recentlyUsed.removeAll { $0 == key }
    recentlyUsed.append(key)
    if let cached = workspaces[key] { return cached }
    if recentlyUsed.count > cachedWorkspaceLimit {
      workspaces[recentlyUsed.removeFirst()] = nil
    }
    let created = try ModelWorkspace(
      architecture: architecture,
      batch: batch,
      training: training,
      context: context
    )
    workspaces[key] = created
    return created
  }
}

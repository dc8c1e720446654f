import Foundation

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
  /// The layout of the convolutions' activations in every workspace of this engine.
  public let activationLayout: ActivationLayoutPreference
  /// The widest vector of the hand-written kernels in this engine's workspaces.
  let kernelLanes: Int
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
  /// - Parameter activationLayout: the convolutions' activation layout; oneDNN's choice unless
  ///   a benchmark asks for another. Another layout may run other convolution kernels, whose
  ///   sums differ in rounding; the hand-written kernels give the same bits on every layout.
  /// - Throws: ``NeuralEngineError/oneDNN(operation:status:)`` if oneDNN cannot start.
  public convenience init(activationLayout: ActivationLayoutPreference = .chosenByOneDNN) throws {
    try self.init(activationLayout: activationLayout, kernelLanes: KernelVectorWidth.machine)
  }

  /// An engine whose kernels use at most `kernelLanes` lanes (16 or 8), for tests that compare
  /// the widths.
  init(activationLayout: ActivationLayoutPreference, kernelLanes: Int) throws {
    context = try DNNLContext()
    self.activationLayout = activationLayout
    self.kernelLanes = kernelLanes
  }

  /// The oneDNN version the engine runs on, e.g. "2.6.3".
  public static var oneDNNVersion: String { OneDNNLibrary.version }

  /// The instruction set oneDNN's kernels use on this CPU, e.g. "avx512_core_bf16" or "avx2".
  public static var instructionSet: String { OneDNNLibrary.instructionSet }

  /// The threads oneDNN's primitives and the hand-written kernels run on: the OpenMP thread
  /// count (`OMP_NUM_THREADS`, else one per core), or the active processors where oneDNN runs
  /// on another threading runtime.
  public static var threadCount: Int {
    Parallel.openMPThreads ?? ProcessInfo.processInfo.activeProcessorCount
  }

  /// Channels per vector in the engine's hand-written kernels on this machine (16 with
  /// AVX-512, else 8) where the layout allows it.
  public static var kernelLanes: Int { KernelVectorWidth.machine }

  /// The physical layouts (oneDNN's notation, e.g. `acdb` for `nhwc`, `aBcd8b` for
  /// `nChw8c`) of the convolution memories of a training or an inference stack, by role, and
  /// the implementations oneDNN chose for its two convolutions (training and inference may
  /// differ: oneDNN 2.6 on AVX-512 runs inference on `brgconv` in `nhwc` and training on
  /// `jit:avx512_core` in `nChw16c`).
  public func convolutionLayouts(
    training: Bool,
    for architecture: BayesianCNN.Architecture = .paper,
    batch: Int = 128
  ) throws -> (layouts: [(role: String, format: String)], implementations: [String]) {
    let stack = try workspace(architecture: architecture, batch: batch, training: training)
      .convolution
    return (stack.layouts, [stack.firstImplementation, stack.implementation])
  }

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
      context: context,
      activationLayout: activationLayout,
      kernelLanes: kernelLanes
    )
    workspaces[key] = created
    return created
  }
}

/// The layout of the convolutions' activations.
public enum ActivationLayoutPreference: String, Sendable, Hashable, CaseIterable {
  /// Whatever the fastest implementation oneDNN finds prefers (`format_tag_any`): blocked
  /// `nChw8c` on AVX2, `nhwc` on AVX-512 with oneDNN 2.6.
  case chosenByOneDNN = "any"
  /// `nhwc` (channels innermost) forced, so that the kernels' NHWC path can be measured on
  /// machines where oneDNN would choose a blocked layout.
  case nhwc
}

/// Everything a reader needs to trace a report's numbers back to how they were made: the
/// command, code version, resolved parameters, seed, input digests, per-cell stage counts,
/// software versions and hardware.
///
/// Every field is plain data filled in by the caller; the renderer never reads the clock or
/// the machine itself, so the same provenance always renders the same bytes.
public struct Provenance: Sendable, Equatable {
  /// The exact invocation, for example `pipeline reproduce fig2 --profile quick`.
  public var command: String
  /// The working directory of the invocation, if it should be shown.
  public var workingDirectory: String?
  /// The git commit the tool was built from, or nil when it was built outside a git checkout.
  public var gitCommit: String?
  /// Whether that build, or the checkout the tool ran in, had uncommitted changes outside
  /// `Reports/` (or the checkout held other code or documents than the build's commit).
  public var gitDirty: Bool
  /// The commit of the checkout a report was rendered in (its target documents were read
  /// there), when it is not ``gitCommit``: for example a later commit that only added result
  /// bundles. Nil when they are the same or the report records a run.
  public var checkoutCommit: String?
  /// The profile name (for example `paper` or `quick`).
  public var profile: String
  /// A prominent warning when the profile is not the paper's protocol, for example
  /// "quick profile: reduced protocol (1 repetition, 30 rounds) — not the paper's protocol".
  public var profileNotice: String?
  /// The fully resolved parameters (not just overrides), in the order to show them.
  public var parameters: [NamedValue]
  /// The digest of the canonical parameter encoding.
  public var parametersDigest: String
  /// The root seed every stage seed is derived from.
  public var rootSeed: UInt64
  /// External inputs and their SHA-256 digests (for example the four MNIST files).
  public var inputs: [InputDigest]
  /// Per-cell stage counts and compute time.
  public var cells: [CellExecution]
  /// Versions of the software that computed the results.
  public var software: SoftwareVersions
  /// The machine that computed the results.
  public var system: SystemInfo
  /// Wall-clock seconds of the whole invocation.
  public var wallSeconds: Double
  /// The command that continues the whole target (a partial report suggests it); nil means
  /// ``command`` itself. It differs when the recorded command computed only some cells
  /// (`--cells`), which a rerun would not take further.
  public var continueCommand: String?

  /// Creates a provenance record.
  public init(
    command: String,
    workingDirectory: String? = nil,
    gitCommit: String?,
    gitDirty: Bool,
    checkoutCommit: String? = nil,
    profile: String,
    profileNotice: String? = nil,
    parameters: [NamedValue],
    parametersDigest: String,
    rootSeed: UInt64,
    inputs: [InputDigest],
    cells: [CellExecution],
    software: SoftwareVersions,
    system: SystemInfo,
    wallSeconds: Double,
    continueCommand: String? = nil
  ) {
    self.continueCommand = continueCommand
    self.command = command
    self.workingDirectory = workingDirectory
    self.gitCommit = gitCommit
    self.gitDirty = gitDirty
    self.checkoutCommit = checkoutCommit
    self.profile = profile
    self.profileNotice = profileNotice
    self.parameters = parameters
    self.parametersDigest = parametersDigest
    self.rootSeed = rootSeed
    self.inputs = inputs
    self.cells = cells
    self.software = software
    self.system = system
    self.wallSeconds = wallSeconds
  }
}

/// A named, already formatted value (a resolved parameter).
public struct NamedValue: Sendable, Equatable, Hashable {
  /// The name.
  public var name: String
  /// The value as it should be shown.
  public var value: String

  /// Creates a named value.
  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }
}

/// An external input file and its content digest.
public struct InputDigest: Sendable, Equatable, Hashable {
  /// The input's name (for example `train-images-idx3-ubyte.gz`).
  public var name: String
  /// The SHA-256 digest of its bytes, lower-case hex.
  public var sha256: String

  /// Creates an input record.
  public init(name: String, sha256: String) {
    self.name = name
    self.sha256 = sha256
  }
}

/// How one experiment cell's rounds were obtained in this invocation.
public struct CellExecution: Sendable, Equatable, Hashable {
  /// The cell (for example `bald.bayesian`); matches the figures' series configurations.
  public var cell: String
  /// Rounds read from the cache.
  public var roundsCached: Int
  /// Rounds computed by the recorded run of this command, its interrupted invocations included.
  public var roundsExecuted: Int
  /// Compute seconds the cell's rounds took when they were computed (cached rounds included,
  /// as recorded in their manifests); a stage shared with an earlier cell (round 0 of a
  /// repetition) counts in that cell only, so that the cells' times add up.
  public var computeSeconds: Double
  /// Who computed the cell's stages, from their manifests: one line per distinct code version
  /// and machine (e.g. `4a316bf, jit:avx512_core, 2 threads, AMD EPYC: 402 stages`).
  public var computedBy: [String]
  /// Compute seconds per round over the rounds after round 0, which cells of a repetition share
  /// (and which counts in one cell only); nil without such rounds.
  public var secondsPerRound: Double?
  /// Compute seconds per round of the cell's score stages alone (scoring the pool subset and,
  /// for BatchBALD, choosing the batch): the cost of its acquisition function; nil without a
  /// computed score stage.
  public var scoringSecondsPerRound: Double?

  /// Creates a cell record.
  public init(
    cell: String,
    roundsCached: Int,
    roundsExecuted: Int,
    computeSeconds: Double,
    computedBy: [String] = [],
    secondsPerRound: Double? = nil,
    scoringSecondsPerRound: Double? = nil
  ) {
    self.secondsPerRound = secondsPerRound
    self.scoringSecondsPerRound = scoringSecondsPerRound
    self.cell = cell
    self.roundsCached = roundsCached
    self.roundsExecuted = roundsExecuted
    self.computeSeconds = computeSeconds
    self.computedBy = computedBy
  }
}

/// Versions of the toolchain and libraries that computed the results.
public struct SoftwareVersions: Sendable, Equatable, Hashable {
  /// The Swift compiler version (for example `6.3.1`).
  public var swift: String
  /// The HDF5 library version (for example `1.10.8`).
  public var hdf5: String
  /// The oneDNN library version (for example `2.6.3`).
  public var oneDNN: String
  /// The instruction set oneDNN dispatched to (for example `AVX-512`).
  public var oneDNNISA: String

  /// Creates a version record.
  public init(swift: String, hdf5: String, oneDNN: String, oneDNNISA: String) {
    self.swift = swift
    self.hdf5 = hdf5
    self.oneDNN = oneDNN
    self.oneDNNISA = oneDNNISA
  }
}

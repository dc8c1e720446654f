import ArgumentParser
import Experiments
import Foundation

/// The options every subcommand that reads or writes the cache accepts, with the same names.
struct DataOptions: ParsableArguments {
  /// The data directory when `--data-dir` is not given.
  static let defaultDataDir = "./Data"

  @Option(help: "Where downloads, the stage cache and run records live.")
  var dataDir: String = DataOptions.defaultDataDir

  @Option(help: ArgumentHelp("Where the target documents live.", visibility: .hidden))
  var pipelinesDir: String = "./Pipelines"

  @Flag(help: "Print only results and errors: no progress.")
  var quiet = false

  var dataDirectory: URL { URL(fileURLWithPath: dataDir).standardizedFileURL }
  var cacheDirectory: URL { dataDirectory.appendingPathComponent("cache") }
  var catalog: TargetCatalog {
    TargetCatalog(directory: URL(fileURLWithPath: pipelinesDir).standardizedFileURL)
  }
}

/// The option of the subcommands that render reports.
struct ReportOptions: ParsableArguments {
  @Option(help: "Where the rendered reports go.")
  var reportsDir: String = "./Reports"

  var reportsDirectory: URL { URL(fileURLWithPath: reportsDir).standardizedFileURL }
}

/// The option of the subcommands that may compute the MNIST download (directly, or to restore
/// what an imported bundle carries as digests only).
struct MirrorOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "A local directory holding the four MNIST files (gzipped or not) instead of the network.",
      discussion: "Defaults to $DBAL_MNIST_MIRROR when set."
    )
  )
  var mnistMirror: String?

  /// The mirror directory from the flag, else the environment, else nil (network).
  var resolved: String? {
    if let mnistMirror { return mnistMirror }
    let env = ProcessInfo.processInfo.environment["DBAL_MNIST_MIRROR"] ?? ""
    return env.isEmpty ? nil : env
  }
}

/// Which profile to run and which of its values to override.
struct ProfileOptions: ParsableArguments {
  @Option(help: "Which protocol to run: paper, quick or smoke.")
  var profile: String = "paper"

  @Option(
    name: .customLong("set"),
    help: ArgumentHelp(
      "Override one profile value, e.g. --set rounds=30 (repeatable; enters the cache keys).",
      discussion: ProfileOptions.parameterTable,
      valueName: "key=value"
    )
  )
  var overrides: [String] = []

  /// Every `--set` key with its value in each profile, for `--help` (one flowing paragraph,
  /// which the help formatter wraps cleanly).
  static let parameterTable: String =
    "Keys, with their \(Profile.all.map(\.name).joined(separator: " / ")) values: "
    + ProfileOverride.specs.map { spec in
      "\(spec.key) \(Profile.all.map { spec.value(in: $0.parameters) }.joined(separator: " / "))"
    }.joined(separator: "; ")
    + ". `pipeline status TARGET` lists the resolved values and the README explains them."

  func resolve() throws -> (Profile, [ProfileOverride]) {
    (try Profile.named(profile), try overrides.map { try ProfileOverride(parsing: $0) })
  }
}

import Foundation
import TestSupport
import Testing

/// Bad input of every kind: a non-zero exit and an error that names the problem and the fix.
@Suite("Bad input", .timeLimit(.minutes(10)))
struct BadInputTests {
  /// A command line that must fail, with phrases its error must contain.
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var arguments: [String]
    var expected: [String]
    /// Whether the command gets an existing (empty) data directory rather than a missing one.
    var existingData = false
    var testDescription: String { name }
  }

  static let dataArguments = ["--data-dir", "/nonexistent-dbal-test/Data"]

  static let commandLineCases: [Case] = [
    Case(
      name: "unknown target",
      arguments: ["reproduce", "fig9", "--profile", "smoke"],
      expected: ["unknown target \"fig9\"", "fig1, fig2, fig3, table1, table2", "pipeline list"]
    ),
    Case(
      name: "unknown profile",
      arguments: ["reproduce", "fig2", "--profile", "huge"],
      expected: ["unknown profile \"huge\"", "paper, quick, smoke"]
    ),
    Case(
      name: "unknown --set key",
      arguments: ["reproduce", "fig2", "--set", "roundz=3"],
      expected: ["unknown parameter \"roundz\"", "known parameters: repetitions, rounds"]
    ),
    Case(
      name: "--set out of range",
      arguments: ["status", "fig2", "--set", "epochs=0"],
      expected: ["epochs", "out of range", "1...10000"]
    ),
    Case(
      name: "--set not an integer",
      arguments: ["status", "fig2", "--set", "rounds=1.5"],
      expected: ["\"1.5\"", "rounds", "an integer"]
    ),
    Case(
      name: "--set without a value",
      arguments: ["status", "fig2", "--set", "rounds"],
      expected: ["malformed --set \"rounds\"", "key=value"]
    ),
    Case(
      name: "--set unknown initialisation",
      arguments: ["status", "fig2", "--set", "initialisation=he"],
      expected: ["\"he\"", "initialisation", "'keras-0.3', 'glorot'"]
    ),
    Case(
      name: "--set non-positive weight-decay grid",
      arguments: ["status", "fig2", "--set", "weight-decay-grid=0.5,0,2"],
      expected: ["\"0\"", "weight-decay-grid", "positive numbers"]
    ),
    Case(
      name: "--set pool subset below the acquisition count",
      arguments: ["status", "fig2", "--set", "pool-subset=5"],
      expected: ["pool-subset 5 is smaller than acquire-count 10"]
    ),
    Case(
      name: "--cells matching nothing",
      arguments: ["reproduce", "fig2", "--profile", "smoke", "--cells", "bald.*.r7"],
      expected: ["--cells 'bald.*.r7' matches no cell", "bald.bayesian.r0"]
    ),
    Case(
      name: "--cells with one of several globs matching nothing",
      arguments: ["reproduce", "fig2", "--profile", "smoke", "--cells", "bald.*,var-ratio.*"],
      expected: ["--cells 'var-ratio.*' matches no cell", "var-ratios.bayesian.r0", "commas"]
    ),
    Case(
      name: "--cells with an empty glob",
      arguments: ["reproduce", "fig2", "--profile", "smoke", "--cells", "bald.*,"],
      expected: ["--cells 'bald.*,' has an empty glob", "single commas"]
    ),
    Case(
      name: "predict output equal to its checkpoint",
      arguments: [
        "predict", "--checkpoint", "/tmp/dbal-m.h5", "--output", "/tmp/../tmp/dbal-m.h5",
      ],
      expected: ["--output /tmp/../tmp/dbal-m.h5 is the checkpoint itself", "destroy the weights"]
    ),
    Case(
      name: "unknown cell",
      arguments: ["replay", "fig2", "--profile", "smoke", "--cell", "x", "--round", "0"],
      expected: ["unknown cell \"x\"", "bald.bayesian.r0"],
      existingData: true
    ),
    Case(
      name: "report from a missing data directory",
      arguments: ["report", "fig2", "--profile", "smoke", "--reports-dir", "/tmp/dbal-r"],
      expected: [
        "data directory /nonexistent-dbal-test/Data does not exist", "--data-dir",
        "pipeline import",
      ]
    ),
    Case(
      name: "export from a missing data directory",
      arguments: ["export", "fig2", "--profile", "smoke", "--output", "/tmp/dbal-bundles"],
      expected: ["data directory /nonexistent-dbal-test/Data does not exist", "--data-dir"]
    ),
    Case(
      name: "cancel in a missing data directory",
      arguments: ["cancel", "fig2", "--profile", "smoke"],
      expected: ["data directory /nonexistent-dbal-test/Data does not exist", "--data-dir"]
    ),
    Case(
      name: "gc of a missing data directory",
      arguments: ["gc", "--dry-run"],
      expected: ["data directory /nonexistent-dbal-test/Data does not exist", "--data-dir"]
    ),
    Case(
      name: "gc --prune of a missing data directory",
      arguments: ["gc", "--prune", "models"],
      expected: ["data directory /nonexistent-dbal-test/Data does not exist", "--data-dir"]
    ),
    Case(
      name: "missing checkpoint",
      arguments: ["predict", "--checkpoint", "/nonexistent-dbal-test/m.h5"],
      expected: ["/nonexistent-dbal-test/m.h5", "does not exist"]
    ),
  ]

  @Test("Command-line mistakes", arguments: commandLineCases)
  func commandLineMistake(_ testCase: Case) throws {
    // A data directory of this case's own that does not exist (the expected phrases name it
    // as Self.dataArguments does).
    let missing = try TestSupport.temporaryDirectory("bad-input").appendingPathComponent("Data")
    let data =
      testCase.existingData
      ? ["--data-dir", try TestSupport.temporaryDirectory("bad-input").path]
      : ["--data-dir", missing.path]
    let outcome = try PipelineProcess.run(testCase.arguments + data, timeout: 60)
    expectFailure(
      outcome,
      mentioning: testCase.expected.map {
        $0.replacingOccurrences(of: Self.dataArguments[1], with: missing.path)
      }
    )
    // A command that failed on its arguments leaves no trace of the missing data directory.
    #expect(!FileManager.default.fileExists(atPath: missing.path))
  }

  @Test("status of a data directory that does not exist creates nothing")
  func statusOfMissingDataDirectory() throws {
    let missing = try TestSupport.temporaryDirectory("status-missing")
      .appendingPathComponent("Data")
    let outcome = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke", "--data-dir", missing.path],
      timeout: 60
    )
    #expect(outcome.status == 0, "\(outcome.standardError)")
    #expect(outcome.standardOutput.contains("\(missing.path) does not exist yet"))
    #expect(outcome.standardOutput.contains("bald.bayesian.r0"))
    #expect(!FileManager.default.fileExists(atPath: missing.path))
  }

  @Test("report of a data directory holding nothing of the target keeps the rendered report")
  func reportOfNothingKeepsTheRenderedReport() throws {
    let data = try TestSupport.temporaryDirectory("report-nothing")
    let reports = try TestSupport.temporaryDirectory("report-nothing-reports")
    let rendered = reports.appendingPathComponent("fig2-smoke.md")
    try Data("a rendered report\n".utf8).write(to: rendered)
    let outcome = try PipelineProcess.run(
      [
        "report", "fig2", "--profile", "smoke", "--data-dir", data.path, "--reports-dir",
        reports.path,
      ],
      timeout: 60
    )
    expectFailure(
      outcome,
      mentioning: [
        "nothing of fig2 (profile smoke) beyond the shared round 0 is evaluated in \(data.path)",
        "no report was written",
        "reproduce fig2 --profile smoke --data-dir \(data.path)",
      ]
    )
    #expect(try String(contentsOf: rendered, encoding: .utf8) == "a rendered report\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: reports.path) == ["fig2-smoke.md"])
  }

  // MARK: - Documents

  /// A broken block in a target document, and the line the error must point at.
  static let documentDamage: [(name: String, find: String, replace: String)] = [
    ("invalid value", "models: bayesian, deterministic", "models: bayesian, nonsense"),
    ("not key: value", "models: bayesian, deterministic", "bogus line"),
    ("unknown figure metric", "metric: natural", "metric: nonsense"),
    ("metric for a model the grammar lacks", "metric: natural", "metric: mc for frequentist"),
  ]

  @Test("A malformed Pipelines block is reported with its line", arguments: documentDamage.indices)
  func malformedDocument(index: Int) throws {
    let damage = Self.documentDamage[index]
    let folder = try TestSupport.temporaryDirectory("pipelines")
    let original = try String(
      contentsOf: TestSupport.repositoryRoot.appendingPathComponent("Pipelines/fig2.md"),
      encoding: .utf8
    )
    let lines = original.components(separatedBy: "\n")
    let line =
      try #require(lines.firstIndex(of: damage.find), "fig2.md changed: update the test") + 1
    try original.replacingOccurrences(of: damage.find, with: damage.replace)
      .write(to: folder.appendingPathComponent("fig2.md"), atomically: true, encoding: .utf8)
    let outcome = try PipelineProcess.run(
      ["status", "fig2", "--profile", "smoke", "--pipelines-dir", folder.path] + Self.dataArguments,
      timeout: 60
    )
    expectFailure(outcome, mentioning: ["fig2.md:\(line):"])
  }

  // MARK: - Data directories

  @Test("A data directory below a regular file")
  func dataDirectoryBelowFile() throws {
    let folder = try TestSupport.temporaryDirectory("below-file")
    let file = folder.appendingPathComponent("a-file")
    try Data("x".utf8).write(to: file)
    let data = file.appendingPathComponent("Data").path
    let outcome = try PipelineProcess.run(
      ["reproduce", "fig2", "--profile", "smoke", "--data-dir", data],
      timeout: 60
    )
    expectFailure(outcome, mentioning: [data, "--data-dir"])
  }

  @Test(
    "A read-only data directory",
    .enabled(if: ReadOnlyDirectory.isAvailable, "root ignores permissions and cannot mount here")
  )
  func readOnlyDataDirectory() throws {
    let directory = try ReadOnlyDirectory()
    defer { directory.remove() }
    for data in [directory.url, directory.url.appendingPathComponent("Data")] {
      let outcome = try PipelineProcess.run(
        ["reproduce", "fig2", "--profile", "smoke", "--data-dir", data.path],
        timeout: 60
      )
      expectFailure(outcome, mentioning: [data.path, "--data-dir DIR with a writable directory"])
    }
  }

  // MARK: - Checkpoints from elsewhere

  @Test(
    "pipeline predict rejects HDF5 files of another layout",
    .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/h5copy"),
      "needs hdf5-tools"
    )
  )
  func foreignCheckpoint() throws {
    let fixture = try CLIFixture.shared()
    let model = try #require(
      fixture.referenceCache.entries.first { $0.value.stageID.hasSuffix("/train") }
    )
    let source = fixture.reference.dataDirectory.appendingPathComponent(
      "cache/entries/\(model.key.prefix(2))/\(model.key)/model.h5"
    )
    let folder = try TestSupport.temporaryDirectory("foreign")
    // Written by another program (h5copy): a right name with a wrong shape, a missing
    // dataset, and a file that is not HDF5 at all.
    let wrongShape = folder.appendingPathComponent("wrong-shape.h5")
    try h5copy(source, "/fc1.weight", to: wrongShape, "/conv1.weight")
    let missing = folder.appendingPathComponent("missing.h5")
    try h5copy(source, "/fc2.bias", to: missing, "/probabilities")
    let text = folder.appendingPathComponent("text.h5")
    try Data("not hdf5\n".utf8).write(to: text)
    let expectations: [(URL, [String])] = [
      (wrongShape, ["conv1.weight", "[128, 3872]", "expected [32, 1, 4, 4]"]),
      (missing, ["no dataset 'conv1.weight'"]),
      (text, ["not a readable HDF5 file"]),
    ]
    for (file, phrases) in expectations {
      let outcome = try PipelineProcess.run(
        ["predict", "--checkpoint", file.path] + fixture.base.dataArguments,
        timeout: 60
      )
      expectFailure(outcome, mentioning: [file.lastPathComponent] + phrases)
    }
  }

  private func h5copy(_ source: URL, _ object: String, to destination: URL, _ name: String) throws {
    let copy = Process()
    copy.executableURL = URL(fileURLWithPath: "/usr/bin/h5copy")
    copy.arguments = ["-i", source.path, "-o", destination.path, "-s", object, "-d", name]
    try copy.run()
    copy.waitUntilExit()
    try #require(copy.terminationStatus == 0)
  }
}

/// Expects a failed run (non-zero exit, not a crash) whose stderr holds every phrase.
func expectFailure(
  _ outcome: PipelineProcess.Outcome,
  mentioning phrases: [String],
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    !outcome.wasSignalled && outcome.status != 0,
    "\(outcome)",
    sourceLocation: sourceLocation
  )
  for phrase in phrases {
    #expect(
      outcome.standardError.contains(phrase),
      "stderr lacks \"\(phrase)\":\n\(outcome.standardError)",
      sourceLocation: sourceLocation
    )
  }
  #expect(!outcome.standardError.contains("Fatal error"), sourceLocation: sourceLocation)
}

import ArgumentParser
import Experiments
import Foundation
import MNIST
import PipelineCore
import TestSupport
import Testing

@testable import PipelineCLI

/// Every command the tool suggests (in errors, in how to resume, in `--help`, in the README)
/// is one the tool's own parser accepts, quoted so that a shell splits it back into the same
/// words, including paths with spaces and quotes.
@Suite("Suggested commands")
struct SuggestedCommandTests {
  /// A realistic path that needs quoting: spaces and a single quote.
  static let awkwardPath = "/home/ada/DBAL runs/ada's data/Data"
  /// Where `Scripts/dbal` may live when the checkout's path has a space.
  static let wrapper = "/home/ada/my checkout/Scripts/dbal"
  /// A binary started by its path.
  static let binary = "/home/ada/my checkout/.build/release/pipeline"

  /// A message the tool prints, and what it is.
  struct Message: CustomTestStringConvertible, Sendable {
    var source: String
    var text: String
    var testDescription: String { source }
  }

  // MARK: - Messages built by the tool

  /// Every message of the command-line layer and of the libraries' errors, with realistic
  /// arguments (paths with spaces among them).
  static var messages: [Message] {
    let path = awkwardPath
    let stage = StageID("cells/bald.bayesian.r0/round-003/train")
    var messages: [Message] = []
    func add(_ source: String, _ text: String) {
      messages.append(Message(source: source, text: text))
    }
    // The command-line layer.
    for (name, error) in [
      ("CLIError.dataDirectory", CLIError.dataDirectory(path, "is not writable")),
      ("CLIError.unknownCell", .unknownCell("x", known: ["bald.bayesian.r0"])),
      ("CLIError.roundOutOfRange", .roundOutOfRange(7, max: 2)),
      ("CLIError.noTargets", .noTargets(directory: path)),
      ("CLIError.noBundles", .noBundles(folder: path)),
      (
        "CLIError.diskFull (wrapper)",
        .diskFull("No space left on device", dataDirectory: path, program: wrapper)
      ),
      (
        "CLIError.diskFull (binary)",
        .diskFull("No space left on device", dataDirectory: path, program: binary)
      ),
    ] as [(String, CLIError)] {
      add(name, error.description)
    }
    add(
      "Reproduce.stopped",
      Reproduce.stopped(
        executedStages: 3,
        arguments: [binary] + resumeArguments,
        environment: [:]
      )
    )
    add(
      "Reproduce.stopped (Scripts/dbal)",
      Reproduce.stopped(
        executedStages: 3,
        arguments: [binary] + resumeArguments,
        environment: ["DBAL_INVOKED_AS": wrapper]
      )
    )
    add(
      "Reproduce.recordedCommand",
      "`" + Reproduce.recordedCommand(arguments: [binary] + resumeArguments) + "`"
    )
    // The Slurm executor's messages.
    let slurmProfile =
      (try? ProfileOptions.parse(["--profile", "smoke", "--set", "rounds=3"])) ?? ProfileOptions()
    let slurmAgain = SuggestedCommand.again(
      arguments: [binary] + resumeArguments + [
        "--executor", "slurm", "--sbatch-arg", "--account=our lab",
      ],
      environment: [:]
    )
    let slurmStatus = SuggestedCommand.slurmRun(
      "status",
      target: "fig2",
      profile: slurmProfile,
      cells: nil,
      dataDirectory: path,
      arguments: [binary],
      environment: [:]
    )
    let slurmCancel = SuggestedCommand.slurmRun(
      "cancel",
      target: "fig2",
      profile: slurmProfile,
      cells: "bald.*",
      dataDirectory: path,
      arguments: [binary],
      environment: ["DBAL_INVOKED_AS": wrapper]
    )
    add(
      "SlurmExecutor.detached",
      SlurmExecutor.detached(
        job: "12",
        tasks: 6,
        target: "fig2",
        status: slurmStatus,
        again: slurmAgain,
        cancel: slurmCancel
      )
    )
    add(
      "SlurmExecutor.stoppedFollowing",
      SlurmExecutor.stoppedFollowing(job: "12", again: slurmAgain, cancel: slurmCancel)
    )
    add(
      "SlurmExecutor.unfinished",
      SlurmExecutor.unfinished(2, of: 6, again: slurmAgain, retries: 0)
    )
    // The engine's errors.
    let pipelineErrors: [PipelineError] = [
      .duplicateStage(stage),
      .unknownUpstream(stage: stage, input: "model", upstream: stage),
      .unknownArtifact(
        stage: stage,
        input: "model",
        upstream: stage,
        artifact: "x",
        available: ["model"]
      ),
      .invalidArtifactName(stage: stage, name: "a/b"),
      .cycle([stage, stage]),
      .unknownStage(stage),
      .unknownInput(stage: stage, name: "x", declared: ["data"]),
      .invalidParameters(kind: "train", reason: "NaN"),
      .inputFileUnreadable(stage: stage, input: "raw", path: path, reason: "gone"),
      .missingOutput(stage: stage, artifact: "model", path: path),
      .stageFailed(stage, underlying: CLIError.invalidArgument("boom")),
      .cancelled(interrupted: [stage]),
      .notCached(stage),
      .corruptArtifact(path: path, reason: "digest differs"),
      .fileSystem(operation: "rename", path: path, reason: "EXDEV"),
      .invalidBundle(path: path, problem: "not HDF5"),
      .prunedArtifact(key: String(repeating: "ab", count: 32), name: "model"),
      .recomputedDiffers(
        stage: stage,
        artifact: "model",
        recorded: ["threads": "2"],
        current: ["threads": "1"]
      ),
    ]
    for error in pipelineErrors { add("PipelineError.\(caseName(error))", "\(error)") }
    let experimentErrors: [ExperimentError] = [
      .unknownProfile("huge", known: ["paper", "quick", "smoke"]),
      .malformedOverride("rounds"),
      .unknownParameter("roundz", known: ["rounds"]),
      .invalidParameterValue(key: "rounds", value: "1.5", expected: "an integer"),
      .parameterOutOfRange(key: "epochs", value: "0", range: "1...10000"),
      .unknownTarget("fig9", known: ["fig2"], directory: path),
      .invalidArtifact(file: path + "/labelled.h5", problem: "index 7 appears twice"),
      .infeasible("more rounds than pool points"),
      .nonFinite("the loss is NaN"),
      .inDocument(file: "fig2.md", line: 3, .malformedOverride("rounds")),
    ]
    for error in experimentErrors { add("ExperimentError.\(caseName(error))", "\(error)") }
    let mnistErrors: [MNISTError] = [
      .unavailable(file: "t10k-images-idx3-ubyte", attempts: ["https://example.org: timeout"]),
      .httpStatus(url: "https://example.org/x.gz", status: 404),
      .missingFromMirror(file: "t10k-images-idx3-ubyte", mirror: path),
      .checksumMismatch(file: "x", source: path, expected: "00", actual: "11"),
      .wrongLength(file: "x", expected: 1, actual: 2),
      .notIDX(file: "x", expectedMagic: 2051, foundMagic: 2049),
      .wrongDimensions(file: "x", expected: [28, 28], found: [27, 28]),
      .wrongCount(file: "x", expected: 10000, found: 9999),
      .countMismatch(images: "a", labels: "b", imageCount: 1, labelCount: 2),
      .labelOutOfRange(file: "x", index: 3, value: 11),
      .corruptGzip(file: "x", message: "invalid block type"),
      .fileSystem(file: path, operation: "read", message: "EIO"),
      .invalidPreprocessedFile(file: path, problem: "no images"),
    ]
    for error in mnistErrors { add("MNISTError.\(caseName(error))", "\(error)") }
    // Every help screen (its abstract, discussion and option help).
    for command in allCommands {
      add("help of \(name(of: command))", normalisedHelp(command))
    }
    return messages
  }

  /// The arguments of an interrupted run in the tests of the resume line.
  static let resumeArguments = [
    "reproduce", "fig2", "--profile", "smoke", "--set", "rounds=3", "--cells", "bald.*",
    "--data-dir", awkwardPath, "--mnist-mirror", "",
  ]

  @Test("Every command a message suggests parses with the tool's parser", arguments: messages)
  func messageSuggestionsParse(_ message: Message) throws {
    for command in Self.suggestedCommands(in: message.text) {
      expectParses(command, in: message.source)
    }
  }

  @Test("Every option a message names exists", arguments: messages)
  func namedOptionsExist(_ message: Message) {
    let known = Self.knownOptions
    for match in message.text.matches(of: /(?:^|[^\w-])(--[a-z][a-z-]*)/) {
      let option = String(match.output.1)
      #expect(known.contains(option), "\(message.source) names \(option), which no command has")
    }
  }

  @Test("The message builders do suggest commands")
  func buildersSuggestCommands() {
    // Guards the extraction itself: these messages must yield the commands they hold.
    let expectations = [
      "CLIError.noBundles": 1, "CLIError.diskFull (wrapper)": 2, "Reproduce.stopped": 1,
      "CLIError.noTargets": 1, "Reproduce.recordedCommand": 1, "SlurmExecutor.detached": 3,
      "SlurmExecutor.stoppedFollowing": 2, "SlurmExecutor.unfinished": 1,
    ]
    let messages = Self.messages
    for (source, count) in expectations {
      let message = messages.first { $0.source == source }
      #expect(
        message.map { Self.suggestedCommands(in: $0.text).count } == count,
        "\(source): \(message?.text ?? "missing")"
      )
    }
  }

  // MARK: - The resume line

  @Test(
    "The resume line is the invocation as typed: the wrapper or the binary, quoted",
    arguments: [nil, wrapper, "Scripts/dbal"]
  )
  func resumeLineIsTheInvocation(invokedAs: String?) throws {
    let arguments = [Self.binary] + Self.resumeArguments
    let environment = invokedAs.map { ["DBAL_INVOKED_AS": $0] } ?? [:]
    let line = Reproduce.stopped(executedStages: 5, arguments: arguments, environment: environment)
    let resume = try #require(line.components(separatedBy: "Resume with: ").last)
    let words = try ShellWords.split(resume)
    #expect(words.first == (invokedAs ?? Self.binary))
    #expect(Array(words.dropFirst()) == Self.resumeArguments, "\(resume)")
    expectParses(resume, in: "the resume line")
  }

  @Test("The recorded and reproduce commands of a workspace round-trip through a shell")
  func workspaceCommandsRoundTrip() throws {
    let data = try TestSupport.temporaryDirectory("suggested commands")
      .appendingPathComponent("ada's Data")
    let options = try DataOptions.parse([
      "--data-dir", data.path, "--pipelines-dir",
      TestSupport.repositoryRoot.appendingPathComponent("Pipelines").path, "--quiet",
    ])
    let profile = try ProfileOptions.parse([
      "--profile", "smoke", "--set", "rounds=3", "--set", "weight-decay-grid=0.5,1",
    ])
    let workspace = try Workspace(
      target: "fig2",
      options: options,
      profile: profile,
      progress: false
    )
    let command = workspace.reproduceCommand
    let words = try ShellWords.split(command)
    #expect(
      words == [
        "pipeline", "reproduce", "fig2", "--profile", "smoke", "--set", "rounds=3", "--set",
        "weight-decay-grid=0.5,1.0",
      ]
    )
    expectParses(command, in: "Workspace.reproduceCommand")
    // A report rendered without a recorded run names this command; with one, the recorded
    // command, which must survive the data directory's quote and spaces.
    let recorded = Reproduce.recordedCommand(
      arguments: [Self.binary, "reproduce", "fig2", "--data-dir", data.path]
    )
    #expect(
      try ShellWords.split(recorded) == ["pipeline", "reproduce", "fig2", "--data-dir", data.path]
    )
  }

  @Test("--cells globs: trimmed, the union of their cells, a record name free of their order")
  func cellGlobs() throws {
    let options = try DataOptions.parse([
      "--data-dir", try TestSupport.temporaryDirectory("cell globs").path, "--pipelines-dir",
      TestSupport.repositoryRoot.appendingPathComponent("Pipelines").path, "--quiet",
    ])
    let profile = try ProfileOptions.parse(["--profile", "smoke"])
    func workspace(_ cells: String) throws -> Workspace {
      try Workspace(
        target: "fig2",
        options: options,
        profile: profile,
        cells: cells,
        progress: false
      )
    }
    let spaced = try workspace("var-ratios.*, bald.bayesian.*")
    let repeated = try workspace("bald.bayesian.*,var-ratios.*,var-ratios.*")
    #expect(spaced.cellPattern == "bald.bayesian.*,var-ratios.*")
    #expect(spaced.recordName == repeated.recordName)
    #expect(spaced.recordName != (try workspace("bald.bayesian.*")).recordName)
    #expect(
      Set(spaced.computePlan.cells.map(\.description))
        == ["bald.bayesian.r0", "var-ratios.bayesian.r0", "var-ratios.deterministic.r0"]
    )
  }

  @Test("Shell quoting keeps every word, the empty one too")
  func quotingRoundTrips() throws {
    let words = [
      "pipeline", "", "a b", "it's", "$HOME", "`x`", "a\"b", "back\\slash", "tab\there",
      "new\nline", "#hash", "glob*", "~", "ünïcode", "--set", "rounds=3",
    ]
    #expect(try ShellWords.split(SuggestedCommand.shellLine(words)) == words)
  }

  // MARK: - The README

  @Test("Commands in the README's code blocks parse")
  func readmeCodeBlocks() throws {
    let commands = try Self.readmeFencedCommands()
    #expect(commands.count >= 2, "the README shows commands: \(commands)")
    for command in commands {
      // `Scripts/dbal test` runs the test suite, not the tool.
      if try ShellWords.split(command).dropFirst().first == "test" { continue }
      expectParses(command, in: "README.md")
    }
  }

  @Test("Commands in the README's inline code parse (synopses with sample values)")
  func readmeInlineCommands() throws {
    let readme = try String(
      contentsOf: TestSupport.repositoryRoot.appendingPathComponent("README.md"),
      encoding: .utf8
    )
    var checked = 0
    for paragraph in readme.components(separatedBy: "\n\n") where !paragraph.hasPrefix("```") {
      let text = paragraph.replacingOccurrences(of: "\n", with: " ")
      for span in text.matches(of: /`([^`]+)`/).map({ String($0.output.1) }) {
        guard let command = Self.readmeExample(span) else { continue }
        expectParses(command, in: "README.md: `\(span)`")
        checked += 1
      }
    }
    #expect(checked >= 10, "the README's command table was not found")
  }

  // MARK: - The sources

  @Test("Backquoted commands in the sources' string literals parse")
  func commandsInSources() throws {
    let sources = TestSupport.repositoryRoot.appendingPathComponent("Sources")
    let files = try #require(FileManager.default.enumerator(atPath: sources.path))
    var checked = 0
    while let relative = files.nextObject() as? String {
      guard relative.hasSuffix(".swift"), !relative.hasPrefix("TestSupport/") else { continue }
      let text = try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)
      for (number, line) in text.components(separatedBy: "\n").enumerated() {
        guard !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") else { continue }
        for span in line.matches(of: /`([^`]+)`/).map({ String($0.output.1) })
        where !span.contains("\\(") {
          for command in Self.suggestedCommands(in: "`\(span)`") {
            expectParses(command, in: "Sources/\(relative):\(number + 1)")
            checked += 1
          }
        }
      }
    }
    #expect(checked >= 10, "the scan found the sources' commands")
  }

  // MARK: - Helpers

  /// The name of an enum value's case.
  static func caseName(_ value: Any) -> String {
    Mirror(reflecting: value).children.first?.label ?? "\(value)"
  }

  /// The root command and every subcommand.
  static var allCommands: [any ParsableCommand.Type] {
    [PipelineCommand.self] + PipelineCommand.configuration.subcommands
  }

  static func name(of command: any ParsableCommand.Type) -> String {
    command == PipelineCommand.self
      ? "pipeline" : "pipeline " + command._commandName
  }

  /// A command's help at 80 columns, its wrapped lines joined (a backquoted command may wrap).
  static func normalisedHelp(_ command: any ParsableCommand.Type) -> String {
    PipelineCommand.helpMessage(for: command, columns: 80)
      .replacing(/\n[ \t]+/, with: " ")
  }

  /// Every `--option` of every command, hidden ones included.
  static let knownOptions: Set<String> = {
    var options: Set<String> = []
    for command in allCommands {
      let help = PipelineCommand.helpMessage(for: command, includeHidden: true, columns: 200)
      for match in help.matches(of: /(?:^|[^\w-])(--[a-z][a-z-]*)/) {
        options.insert(String(match.output.1))
      }
    }
    return options
  }()

  /// The commands a message suggests: backquoted spans whose first word is the tool (`pipeline`,
  /// `Scripts/dbal`, or a path to either), and what follows `Resume with: ` on its line.
  static func suggestedCommands(in text: String) -> [String] {
    var commands: [String] = []
    for span in text.matches(of: /`([^`]+)`/).map({ String($0.output.1) }) {
      guard let first = try? ShellWords.split(span).first else {
        // Not splittable: a suggestion if it looks like one (the parse check reports why).
        if span.hasPrefix("pipeline ") || span.hasPrefix("Scripts/dbal ") { commands.append(span) }
        continue
      }
      if isTool(first) { commands.append(span) }
    }
    for match in text.matches(of: /Resume with: ([^\n]*)/) {
      commands.append(String(match.output.1))
    }
    return commands
  }

  /// Whether a command's first word runs this tool.
  static func isTool(_ word: String) -> Bool {
    let name = (word as NSString).lastPathComponent
    return name == "pipeline" || (name == "dbal" && word.hasSuffix("Scripts/dbal"))
  }

  /// The commands of the README's fenced `sh` blocks that run the tool.
  static func readmeFencedCommands() throws -> [String] {
    let readme = try String(
      contentsOf: TestSupport.repositoryRoot.appendingPathComponent("README.md"),
      encoding: .utf8
    )
    var commands: [String] = []
    var inFence = false
    for line in readme.components(separatedBy: "\n") {
      if line.hasPrefix("```") {
        inFence.toggle()
        continue
      }
      guard inFence, let first = try? ShellWords.split(line).first, isTool(first) else { continue }
      commands.append(line)
    }
    return commands
  }

  /// An inline README span as a command to parse: nil for spans that are not commands of the
  /// tool; a bare `pipeline SUBCOMMAND` names the subcommand; a synopsis
  /// (`pipeline reproduce TARGET [--jobs N]`) has its brackets, ellipses and alternatives
  /// dropped and its numeric and workload (`W,...`) placeholders given sample values.
  static func readmeExample(_ span: String) -> String? {
    guard span.hasPrefix("pipeline ") || span.hasPrefix("Scripts/dbal ") else { return nil }
    var text = span.replacingOccurrences(of: "\\|", with: "|")
    // `DIR|FILE...`: the first alternative.
    text = text.replacing(/([A-Z.]+)\|[A-Z.]+/) { String($0.output.1) }
    text = text.replacingOccurrences(of: "...", with: "")
      .replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: "")
    // `<subcommand>` stands for any of them.
    text = text.replacingOccurrences(of: "<subcommand>", with: "list")
    let samples = ["N": "2", "T": "100", "W,": "evaluate_10k,train_20"]
    return text.split(separator: " ").map { samples[String($0)] ?? String($0) }
      .joined(separator: " ")
  }
}

/// Expects `command` (a full command line: the program, then arguments) to split shell-style
/// and parse with `pipeline`'s own parser; a bare `pipeline SUBCOMMAND` (a command named in
/// prose) needs only to name a subcommand.
func expectParses(
  _ command: String,
  in source: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let words: [String]
  do {
    words = try ShellWords.split(command)
  } catch {
    Issue.record("\(source): `\(command)` does not split: \(error)", sourceLocation: sourceLocation)
    return
  }
  guard let program = words.first, SuggestedCommandTests.isTool(program) else {
    Issue.record("\(source): `\(command)` does not run the tool", sourceLocation: sourceLocation)
    return
  }
  let arguments = Array(words.dropFirst())
  let subcommands = PipelineCommand.configuration.subcommands.map { $0._commandName }
  if arguments.count == 1, subcommands.contains(arguments[0]) { return }
  do {
    _ = try PipelineCommand.parseAsRoot(arguments)
  } catch {
    Issue.record(
      "\(source): `\(command)` does not parse: \(PipelineCommand.message(for: error))",
      sourceLocation: sourceLocation
    )
  }
}

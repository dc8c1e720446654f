import Foundation
import TestSupport

/// One run of the `pipeline` executable in a child process, with its output captured in files
/// (pipes could fill up and stall a long run).
struct PipelineProcess {
  /// How a finished run ended.
  struct Outcome: CustomStringConvertible {
    /// The exit status, or the signal number when `wasSignalled`.
    var status: Int32
    /// Whether the process was ended by a signal rather than exiting.
    var wasSignalled: Bool
    var standardOutput: String
    var standardError: String
    /// The process id it ran under (manifests record it).
    var processID: Int32

    var succeeded: Bool { !wasSignalled && status == 0 }

    var description: String {
      "\(wasSignalled ? "signal" : "exit") \(status)\n--- stdout\n\(standardOutput)\n--- stderr\n"
        + standardError
    }

    /// The `N executed` count of the last progress line (stages this process computed).
    var executedStages: Int? {
      let lines = standardError.split(separator: "\n").reversed()
      for line in lines {
        guard let range = line.range(of: " executed, ") else { continue }
        let digits = line[..<range.lowerBound].reversed().prefix { $0.isNumber }
        return Int(String(digits.reversed()))
      }
      return nil
    }
  }

  private let process = Process()
  private let outputURL: URL
  private let errorURL: URL

  /// Starts `pipeline arguments…` from the repository root (where `Pipelines/` lives).
  ///
  /// - Parameter shellPrefix: shell commands run before `exec pipeline` (e.g. `ulimit -f 512`);
  ///   when set the process is started through `/bin/sh`.
  init(_ arguments: [String], shellPrefix: String? = nil) throws {
    let logs = try TestSupport.temporaryDirectory("pipeline-log")
    outputURL = logs.appendingPathComponent("stdout")
    errorURL = logs.appendingPathComponent("stderr")
    try Data().write(to: outputURL)
    try Data().write(to: errorURL)
    let binary = try PipelineBinary.url()
    if let shellPrefix {
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-c", "\(shellPrefix); exec \"$0\" \"$@\"", binary.path] + arguments
    } else {
      process.executableURL = binary
      process.arguments = arguments
    }
    process.currentDirectoryURL = TestSupport.repositoryRoot
    var environment = ProcessInfo.processInfo.environment
    if let mirror = TestSupport.mnistMirror { environment["DBAL_MNIST_MIRROR"] = mirror.path }
    process.environment = environment
    process.standardOutput = try FileHandle(forWritingTo: outputURL)
    process.standardError = try FileHandle(forWritingTo: errorURL)
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  var processID: Int32 { process.processIdentifier }
  var isRunning: Bool { process.isRunning }

  /// Sends `signal` (e.g. `SIGKILL`, `SIGINT`) if the process is still running; returns
  /// whether it was.
  @discardableResult
  func send(_ signal: Int32) -> Bool {
    guard process.isRunning else { return false }
    return kill(process.processIdentifier, signal) == 0
  }

  /// Waits until the process ends; after `timeout` seconds it is killed and the error says so.
  func wait(timeout: Double = 300) throws -> Outcome {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
      if Date() > deadline {
        send(SIGKILL)
        process.waitUntilExit()
        throw HarnessError.timedOut(process.arguments ?? [], seconds: timeout, read())
      }
      usleep(20_000)
    }
    process.waitUntilExit()
    return read()
  }

  /// What the process has written to stderr so far.
  var standardErrorSoFar: String { (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "" }

  /// Sleeps `seconds` or until the process ends, whichever comes first.
  func sleep(upTo seconds: Double) {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning, Date() < deadline { usleep(10_000) }
  }

  private func read() -> Outcome {
    let signalled = !process.isRunning && process.terminationReason == .uncaughtSignal
    return Outcome(
      status: process.isRunning ? -1 : process.terminationStatus,
      wasSignalled: signalled,
      standardOutput: (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
      standardError: (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "",
      processID: process.processIdentifier
    )
  }

  /// Runs `pipeline arguments…` to completion.
  static func run(
    _ arguments: [String],
    shellPrefix: String? = nil,
    timeout: Double = 300
  )
    throws -> Outcome
  {
    try PipelineProcess(arguments, shellPrefix: shellPrefix).wait(timeout: timeout)
  }
}

/// Failures of the test harness itself (not of the tool under test).
enum HarnessError: Error, CustomStringConvertible {
  case timedOut([String], seconds: Double, PipelineProcess.Outcome)
  case binaryUnavailable(String)
  case commandFailed(String, PipelineProcess.Outcome)

  var description: String {
    switch self {
    case .timedOut(let arguments, let seconds, let outcome):
      "pipeline \(arguments.joined(separator: " ")) did not finish within \(seconds) s\n\(outcome)"
    case .binaryUnavailable(let reason): "cannot find or build the pipeline executable: \(reason)"
    case .commandFailed(let command, let outcome): "\(command) failed: \(outcome)"
    }
  }
}

/// Finds the `pipeline` executable next to the test bundle, building it once if missing.
enum PipelineBinary {
  private static let located: Result<URL, HarnessError> = locate()

  static func url() throws -> URL { try located.get() }

  private static func locate() -> Result<URL, HarnessError> {
    let manager = FileManager.default
    if let path = ProcessInfo.processInfo.environment["DBAL_PIPELINE_BINARY"], !path.isEmpty {
      return .success(URL(fileURLWithPath: path))
    }
    // `swift test` runs `<scratch>/<triple>/debug/DBALPackageTests.xctest`; products sit beside it.
    let bundleDirectory =
      Bundle.main.bundleURL.pathExtension == "xctest"
      ? Bundle.main.bundleURL.deletingLastPathComponent()
      : URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidate = bundleDirectory.appendingPathComponent("pipeline")
    if manager.isExecutableFile(atPath: candidate.path) { return .success(candidate) }
    // Not linked alongside the tests: build it into the same scratch path.
    let scratch = bundleDirectory.deletingLastPathComponent().deletingLastPathComponent()
    let build = Process()
    build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    build.arguments = [
      "swift", "build", "--product", "pipeline", "--scratch-path", scratch.path,
      "-c", bundleDirectory.lastPathComponent == "release" ? "release" : "debug",
    ]
    build.currentDirectoryURL = TestSupport.repositoryRoot
    do {
      try build.run()
      build.waitUntilExit()
    } catch {
      return .failure(.binaryUnavailable("swift build failed to start: \(error)"))
    }
    guard build.terminationStatus == 0, manager.isExecutableFile(atPath: candidate.path) else {
      return .failure(
        .binaryUnavailable("`swift build --product pipeline` did not produce \(candidate.path)")
      )
    }
    return .success(candidate)
  }
}

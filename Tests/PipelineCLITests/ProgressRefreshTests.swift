import Foundation
import TestSupport
import Testing

/// On a terminal, the progress line is redrawn while a long stage runs: it names the running
/// stage, and the elapsed time and ETA keep moving (not only when a stage finishes).
@Suite(
  "Progress on a terminal",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .enabled(
    if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
    "needs util-linux `script` for a pseudo-terminal"
  )
)
struct ProgressRefreshTests {
  @Test("A stage of several seconds is shown running, redrawn every 2 s")
  func longStagesAreRedrawn() throws {
    let fixture = try CLIFixture.shared()
    let workspace = try fixture.workspace(copying: fixture.base, "tty")
    defer { fixture.discard(workspace) }
    // One training of 20 images for 1500 epochs: several seconds in a single stage.
    let arguments =
      [
        try PipelineBinary.url().path, "reproduce", "fig2", "--profile", "smoke", "--cells",
        "bald.bayesian.r0", "--set", "rounds=0", "--set", "epochs=1500",
      ] + workspace.renderArguments
    let script = Process()
    script.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    // -q: no banner; -e: the command's exit code; -f: flush; the typescript is discarded.
    script.arguments = ["-qefc", arguments.map(Self.quoted).joined(separator: " "), "/dev/null"]
    script.currentDirectoryURL = TestSupport.repositoryRoot
    var environment = ProcessInfo.processInfo.environment
    if let mirror = TestSupport.mnistMirror { environment["DBAL_MNIST_MIRROR"] = mirror.path }
    script.environment = environment
    let output = Pipe()
    script.standardOutput = output
    script.standardInput = FileHandle.nullDevice
    let started = Date()
    try script.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    script.waitUntilExit()
    let seconds = Date().timeIntervalSince(started)
    let text = String(decoding: data, as: UTF8.self)
    #expect(script.terminationStatus == 0, "\(text)")
    // Each redraw starts with a carriage return and an erase-line sequence.
    let redraws = text.components(separatedBy: "\r\u{1B}[K").filter {
      $0.contains("running cells/bald.bayesian.r0/round-000/train")
    }
    #expect(seconds > 6, "the training should take several seconds, took \(seconds) s")
    #expect(
      redraws.count >= Int(seconds / 2) - 3,
      "\(redraws.count) redraws naming the running training in \(seconds) s:\n\(text)"
    )
    // The elapsed time moves between redraws of the same running stage.
    let elapsed = Set(
      redraws.compactMap { line -> String? in
        guard let start = line.range(of: "elapsed ") else { return nil }
        return String(line[start.upperBound...].prefix { $0 != " " })
      }
    )
    #expect(elapsed.count >= 2, "elapsed times shown: \(elapsed.sorted())")
  }

  static func quoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}

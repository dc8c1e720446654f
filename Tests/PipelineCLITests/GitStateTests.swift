import Foundation
import TestSupport
import Testing

@testable import PipelineCLI

/// The code version every manifest and report records: the checkout's commit, dirty only for
/// changes that can change results (anything outside `Reports/`, untracked files included).
@Suite(
  "Code version and dirtiness",
  .enabled(
    if: FileManager.default.isExecutableFile(atPath: "/usr/bin/git"),
    "needs git"
  )
)
struct GitStateTests {
  /// A committed checkout with code, a document and a rendered report.
  private func checkout() throws -> URL {
    let root = try TestSupport.temporaryDirectory("git state")
    for (path, text) in [
      ("Sources/Tool/main.swift", "print(1)\n"), ("Pipelines/fig2.md", "# Figure 2\n"),
      ("Reports/fig2.md", "partial\n"), ("Package.swift", "// manifest\n"),
    ] {
      try write(text, to: path, in: root)
    }
    try git(["init", "-q"], in: root)
    try git(["add", "."], in: root)
    try git(["commit", "-q", "-m", "initial"], in: root)
    return root
  }

  @Test("A clean checkout: its commit, not dirty")
  func clean() throws {
    let root = try checkout()
    let state = ToolInfo.gitState(in: root)
    #expect(state.commit == (try git(["rev-parse", "HEAD"], in: root)))
    #expect(state.commit?.count == 40)
    #expect(!state.dirty)
  }

  @Test(
    "Changes under Reports/ do not make it dirty",
    arguments: ["modified", "untracked", "deleted", "untracked folder"]
  )
  func reportsDoNotCount(change: String) throws {
    let root = try checkout()
    switch change {
    case "modified": try write("complete\n", to: "Reports/fig2.md", in: root)
    case "untracked": try write("new\n", to: "Reports/fig2.html", in: root)
    case "deleted":
      try FileManager.default.removeItem(at: root.appendingPathComponent("Reports/fig2.md"))
    default: try write("<svg/>", to: "Reports/fig2/fig2.svg", in: root)
    }
    let state = ToolInfo.gitState(in: root)
    #expect(state.commit != nil)
    #expect(!state.dirty, "a \(change) report")
    // Wherever in the checkout the tool runs.
    #expect(!ToolInfo.gitState(in: root.appendingPathComponent("Sources")).dirty)
  }

  @Test(
    "Changes to the code or the documents make it dirty",
    arguments: [
      "Sources/Tool/main.swift", "Sources/Tool/new.swift", "Pipelines/fig2.md",
      "Pipelines/table9.md", "Package.swift", "Sources/Reports/Renderer.swift",
    ]
  )
  func codeAndDocumentsCount(path: String) throws {
    let root = try checkout()
    try write("changed\n", to: path, in: root)
    #expect(ToolInfo.gitState(in: root).dirty, "\(path) changed or added")
    // Also when the tool runs from another folder of the checkout.
    #expect(
      ToolInfo.gitState(in: root.appendingPathComponent("Reports")).dirty,
      "\(path), from Reports/"
    )
  }

  @Test("A deleted source file makes it dirty")
  func deletionCounts() throws {
    let root = try checkout()
    try FileManager.default.removeItem(at: root.appendingPathComponent("Pipelines/fig2.md"))
    #expect(ToolInfo.gitState(in: root).dirty)
  }

  @Test("Outside a git checkout: no commit, and not called dirty")
  func notACheckout() throws {
    let folder = try TestSupport.temporaryDirectory("not a checkout")
    try write("x\n", to: "Sources/a.swift", in: folder)
    let state = ToolInfo.gitState(in: folder)
    #expect(state.commit == nil)
    #expect(!state.dirty)
  }

  // MARK: - Helpers

  private func write(_ text: String, to path: String, in root: URL) throws {
    let url = root.appendingPathComponent(path)
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(),
      withIntermediateDirectories: true
    )
    try Data(text.utf8).write(to: url)
  }

  /// Runs git in `directory` with a fixed identity and no user or system configuration.
  @discardableResult
  private func git(_ arguments: [String], in directory: URL) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    process.arguments =
      [
        "-c", "user.name=DBAL tests", "-c", "user.email=tests@dbal.invalid",
        "-c", "commit.gpgsign=false",
      ] + arguments
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment
    environment["GIT_CONFIG_NOSYSTEM"] = "1"
    environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "git \(arguments.joined(separator: " ")) failed")
    return output.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

import Foundation
import TestSupport
import Testing

@testable import PipelineCLI

/// The code version every manifest and report records: the commit the binary was built from
/// (`Scripts/code-version`, run by the CodeVersion build plugin) and the checkout it runs in
/// (`ToolInfo.gitState`), both dirty only for changes that can change results (anything outside
/// `Reports/`, untracked files included). Each case checks both with the same rule.
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
    let built = try buildState(root)
    #expect(built.commit == state.commit && !built.dirty)
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
    #expect(try buildState(root).dirty == false, "a \(change) report, at build time")
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
    #expect(try buildState(root).dirty, "\(path) changed or added, at build time")
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
    #expect(try buildState(root).dirty)
  }

  @Test("Outside a git checkout: no commit, and not called dirty")
  func notACheckout() throws {
    let folder = try TestSupport.temporaryDirectory("not a checkout")
    try write("x\n", to: "Sources/a.swift", in: folder)
    let state = ToolInfo.gitState(in: folder)
    #expect(state.commit == nil)
    #expect(!state.dirty)
    let built = try buildState(folder)
    #expect(built.commit == nil && !built.dirty)
  }

  @Test("The build script rewrites its file only when the state changes")
  func buildScriptKeepsAnUnchangedFile() throws {
    let root = try checkout()
    let output = try TestSupport.temporaryDirectory("code version")
    let file = output.appendingPathComponent("CodeVersion.swift")
    func modified() throws -> Date {
      try #require(
        try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
      )
    }
    _ = try buildState(root, output: output)
    // Back-date it by an hour, so that a rewrite shows whatever the file system's timestamp
    // resolution (whole seconds: a Date does not round-trip through it exactly).
    let past = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 3600).rounded())
    try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: file.path)
    _ = try buildState(root, output: output)
    #expect(
      abs(try modified().timeIntervalSince(past)) < 1,
      "an unchanged state rewrote the file (and recompiles)"
    )
    try write("changed\n", to: "Sources/Tool/main.swift", in: root)
    #expect(try buildState(root, output: output).dirty)
    #expect(try modified().timeIntervalSince(past) > 60)
  }

  @Test(
    "This test binary knows the commit it was built from",
    .enabled(
      if: ToolInfo.gitState(in: TestSupport.repositoryRoot).commit != nil,
      "not built in a git checkout"
    )
  )
  func thisBinary() throws {
    // `swift test` builds before it runs, so the build and this run see the same commit.
    let checkout = ToolInfo.gitState(in: TestSupport.repositoryRoot)
    #expect(BuildCodeVersion.commit == checkout.commit)
    #expect(ToolInfo.codeVersion.commit == checkout.commit)
  }

  @Test("A binary run in a checkout at another commit: the binary's commit, dirty where it matters")
  func binaryFromAnotherCommit() throws {
    let root = try checkout()
    let built = try git(["rev-parse", "HEAD"], in: root)
    // The same commit: clean, no warning.
    var version = ToolInfo.codeVersion(built: (built, false), checkout: root)
    #expect(version.commit == built && !version.dirty && version.warning == nil)
    #expect(version.checkout == nil)
    // A binary built from a dirty tree stays dirty.
    #expect(ToolInfo.codeVersion(built: (built, true), checkout: root).dirty)
    // A later commit that changes only rendered reports: the same code and documents.
    try write("complete\n", to: "Reports/fig2.md", in: root)
    try git(["commit", "-q", "-am", "reports"], in: root)
    version = ToolInfo.codeVersion(built: (built, false), checkout: root)
    #expect(version.commit == built && !version.dirty && version.warning == nil)
    // ... read in a checkout at another commit, which the report names.
    #expect(version.checkout == (try git(["rev-parse", "HEAD"], in: root)))
    // A later commit that changes a document: the binary's commit, dirty, with a warning.
    try write("# Figure 2, edited\n", to: "Pipelines/fig2.md", in: root)
    try git(["commit", "-q", "-am", "document"], in: root)
    version = ToolInfo.codeVersion(built: (built, false), checkout: root)
    #expect(version.commit == built && version.dirty)
    let warning = try #require(version.warning)
    #expect(warning.contains(String(built.prefix(7))) && warning.contains("swift build"))
    // A commit this checkout does not have.
    let unknown = String(repeating: "f", count: 40)
    version = ToolInfo.codeVersion(built: (unknown, false), checkout: root)
    #expect(version.commit == unknown && version.dirty)
    #expect(version.warning?.contains("does not have") == true, "\(version.warning ?? "")")
    // Outside any checkout: the binary's own facts.
    let outside = try TestSupport.temporaryDirectory("no checkout")
    version = ToolInfo.codeVersion(built: (built, false), checkout: outside)
    #expect(version.commit == built && !version.dirty && version.warning == nil)
    // A binary built outside a checkout records no commit, not the checkout's.
    version = ToolInfo.codeVersion(built: (nil, false), checkout: root)
    #expect(version.commit == nil && version.warning == nil)
  }

  @Test(
    "The build script reads a checkout another user owns (root building a user's checkout)",
    .enabled(if: getuid() == 0, "needs root to give the checkout away")
  )
  func buildScriptInAnotherUsersCheckout() throws {
    let root = try checkout()
    let commit = try git(["rev-parse", "HEAD"], in: root)
    let chown = Process()
    chown.executableURL = URL(fileURLWithPath: "/bin/chown")
    chown.arguments = ["-R", "12345:12345", root.path]
    try chown.run()
    chown.waitUntilExit()
    try #require(chown.terminationStatus == 0)
    let built = try buildState(root)
    #expect(built.commit == commit && !built.dirty)
    // At run time git refuses it (unless the user's settings trust it): the record cannot
    // claim clean, and says why.
    if ToolInfo.gitState(in: root).commit == nil {
      let version = ToolInfo.codeVersion(built: (commit, false), checkout: root)
      #expect(version.commit == commit && version.dirty)
      #expect(version.warning?.contains("safe.directory") == true, "\(version.warning ?? "")")
    }
  }

  // MARK: - Helpers

  /// Runs `Scripts/code-version` on `root` as the build plugin does and reads back the state
  /// the generated Swift file holds.
  /// The plugin as SwiftPM runs it, in a package of its own: one executable that prints what
  /// it was built from. Incremental builds must record each new commit and edit: SwiftPM skips
  /// prebuild commands on incremental builds (swiftlang/swift-package-manager#5476), which made
  /// a binary built after a commit record the one before.
  @Test(
    "Incremental builds record each new commit and edit",
    .timeLimit(.minutes(5))
  )
  func incrementalBuildsFollowTheCheckout() throws {
    let root = try TestSupport.temporaryDirectory("code version plugin")
    let repository = TestSupport.repositoryRoot
    try write(
      """
      // swift-tools-version: 6.1
      import PackageDescription

      let package = Package(
        name: "Probe",
        targets: [
          .executableTarget(name: "probe", plugins: ["CodeVersion"]),
          .plugin(name: "CodeVersion", capability: .buildTool()),
        ]
      )

      """,
      to: "Package.swift",
      in: root
    )
    try write(
      "print(BuildCodeVersion.commit ?? \"nil\", BuildCodeVersion.dirty)\n",
      to: "Sources/probe/main.swift",
      in: root
    )
    try write(".build/\n", to: ".gitignore", in: root)
    for path in ["Plugins/CodeVersion/CodeVersionPlugin.swift", "Scripts/code-version"] {
      try write(
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8),
        to: path,
        in: root
      )
    }
    try git(["init", "-q"], in: root)
    try git(["add", "."], in: root)
    try git(["commit", "-q", "-m", "first"], in: root)
    func built() throws -> String {
      // A file written in the same second as the last build's record may look unchanged to
      // the build system's file signatures on a coarse clock: keep the steps apart.
      Thread.sleep(forTimeInterval: 1.1)
      let build = Process()
      build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      build.arguments = ["swift", "build", "--product", "probe", "--package-path", root.path]
      build.standardOutput = FileHandle.nullDevice
      try build.run()
      build.waitUntilExit()
      try #require(build.terminationStatus == 0, "swift build of the probe package failed")
      let probe = Process()
      probe.executableURL = root.appendingPathComponent(".build/debug/probe")
      let pipe = Pipe()
      probe.standardOutput = pipe
      try probe.run()
      let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      probe.waitUntilExit()
      return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let first = try git(["rev-parse", "HEAD"], in: root)
    var version = try built()
    #expect(version == "\(first) false", "\(version)")
    // A commit that changes no file the build compiles.
    try git(["commit", "-q", "--allow-empty", "-m", "second"], in: root)
    let second = try git(["rev-parse", "HEAD"], in: root)
    version = try built()
    #expect(version == "\(second) false", "\(version)")
    // An edited document (a file no target compiles) makes it dirty; undone, clean again.
    try write("# edited\n", to: "Scripts/notes.md", in: root)
    try git(["add", "Scripts/notes.md"], in: root)
    version = try built()
    #expect(version == "\(second) true", "\(version)")
    try git(["rm", "-q", "--cached", "Scripts/notes.md"], in: root)
    try FileManager.default.removeItem(at: root.appendingPathComponent("Scripts/notes.md"))
    version = try built()
    #expect(version == "\(second) false", "\(version)")
  }

  private func buildState(
    _ root: URL,
    output: URL? = nil
  ) throws -> (commit: String?, dirty: Bool) {
    let output = try output ?? TestSupport.temporaryDirectory("code version")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = [
      TestSupport.repositoryRoot.appendingPathComponent("Scripts/code-version").path, root.path,
      output.path,
    ]
    // As the plugin starts it: PATH (and HOME, here without the user's settings) only.
    process.environment = [
      "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
      "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
    ]
    try process.run()
    process.waitUntilExit()
    try #require(process.terminationStatus == 0, "Scripts/code-version failed")
    let source = try String(
      contentsOf: output.appendingPathComponent("CodeVersion.swift"),
      encoding: .utf8
    )
    let commit = try #require(
      source.firstMatch(of: /static let commit: String\? = (nil|"([0-9a-f]{40}|[0-9a-f]{64})")\n/),
      "no commit in \(source)"
    )
    let dirty = try #require(
      source.firstMatch(of: /static let dirty = (true|false)\n/),
      "no dirty flag in \(source)"
    )
    return (commit.output.2.map(String.init), dirty.output.1 == "true")
  }

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

import Foundation
import TestSupport
import Testing

/// A disk that fills up mid-run: the run fails naming the cause, keeps what it committed, and
/// the rerun (with space again) finishes with the uninterrupted result.
@Suite(
  "Disk full",
  .enabled(if: TortureSettings.hasMNIST, TortureSettings.noMNIST),
  .timeLimit(.minutes(10))
)
struct DiskFullTests {
  @Test("A write failure mid-run loses nothing committed")
  func diskFull() throws {
    let fixture = try CLIFixture.shared()
    let failing: PipelineProcess.Outcome
    let workspace: URL
    if TemporaryMount.canMount {
      // A real ENOSPC: a tmpfs with room for the fetched data and a few stages.
      let mountPoint = try fixture.emptyWorkspace("tmpfs")
      let size = try directoryKilobytes(fixture.base) + 4096
      try TemporaryMount.mount(at: mountPoint, options: "size=\(size)k")
      defer { TemporaryMount.unmount(mountPoint) }
      let full = mountPoint.appendingPathComponent("ws")
      try CLIFixture.copyDirectory(fixture.base, to: full)
      failing = try PipelineProcess.run(CLIFixture.smokeFig2(full))
      expectFailure(failing, mentioning: ["No space left on device"])
      // Move the workspace off the full disk, as a user would after freeing space.
      workspace = try fixture.emptyWorkspace("after-full")
      try FileManager.default.removeItem(at: workspace)
      try CLIFixture.copyDirectory(full, to: workspace)
    } else {
      // No mounts here: an injected write failure of the same kind (file size limit; EFBIG).
      workspace = try fixture.workspace(copying: fixture.base, "fsize")
      failing = try PipelineProcess.run(
        CLIFixture.smokeFig2(workspace),
        shellPrefix: "ulimit -f 2048; trap '' XFSZ"
      )
      expectFailure(failing, mentioning: ["model.h5"])
    }
    defer { fixture.discard(workspace) }
    let committed = try CacheSnapshot(workspace)
    #expect(committed.uncommittedEntries.isEmpty)

    let rerun = try PipelineProcess.run(CLIFixture.smokeFig2(workspace))
    try #require(rerun.succeeded, "\(rerun)")
    try expectMatchesReference(workspace, fixture)
    // Everything committed before the failure was reused, unchanged.
    let after = try CacheSnapshot(workspace)
    for (key, entry) in committed.entries {
      #expect(after.entries[key] == entry, "entry \(entry.stageID) was recomputed or changed")
    }
    print("disk full: \(committed.entries.count) entries survived the failure")
  }

  private func directoryKilobytes(_ url: URL) throws -> Int {
    let process = Process()
    let pipe = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/du")
    process.arguments = ["-sk", url.path]
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return try #require(Int(output.prefix { $0.isNumber }))
  }
}

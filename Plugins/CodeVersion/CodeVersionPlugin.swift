import Foundation
import PackagePlugin

/// Lets a binary know the code it was built from.
///
/// Runs `Scripts/code-version` on the package's checkout as a build command of the target it
/// is applied to. The script writes `CodeVersion.swift` (enum `BuildCodeVersion`: the commit,
/// and whether the tree had changes outside `Reports/`) into the plugin's work directory, which
/// the target compiles. Manifests and bundles then record the code of the binary that computed
/// them, even when it runs in another checkout or none.
///
/// A build command runs when one of its inputs changed: the git files that every commit,
/// checkout, reset or `git add` rewrites (`HEAD`, `logs/HEAD`, `index`) and every file the
/// package's targets compile or read (sources, documents, scripts), so a new commit or an
/// edited file is recorded, and a build of an unchanged state runs nothing. (A prebuild
/// command would be simpler, but SwiftPM skips prebuild commands on incremental builds,
/// swiftlang/swift-package-manager#5476: a binary built after a commit recorded the one
/// before.)
@main
struct CodeVersionPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
    let package = context.package.directoryURL
    let output = context.pluginWorkDirectoryURL.appending(path: "generated/CodeVersion.swift")
    return [
      .buildCommand(
        displayName: "Recording the code version of \(target.name)",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: [
          package.appending(path: "Scripts/code-version").path, package.path,
          output.deletingLastPathComponent().path,
        ],
        // SwiftPM starts the command with an empty environment: git needs PATH to be found
        // where it is installed, and HOME for the user's settings.
        environment: ProcessInfo.processInfo.environment.filter {
          ["PATH", "HOME"].contains($0.key)
        },
        inputFiles: Self.gitFiles(package) + Self.packageFiles(context.package),
        outputFiles: [output]
      )
    ]
  }

  /// The files of the checkout's git directory that change with its commit or index; none
  /// outside a git checkout. `.git` is a directory, or in a worktree a file naming one.
  static func gitFiles(_ package: URL) -> [URL] {
    let dotGit = package.appending(path: ".git")
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else {
      return []
    }
    var gitDirectory = dotGit
    if !isDirectory.boolValue {
      guard let text = try? String(contentsOf: dotGit, encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("gitdir:") })
      else { return [] }
      let path = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
      gitDirectory =
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : package.appending(path: path)
    }
    return ["HEAD", "logs/HEAD", "index"].map { gitDirectory.appending(path: $0) }
      .filter { FileManager.default.fileExists(atPath: $0.path) }
  }

  /// Every file of the package's targets, and its manifest, documents and scripts: an edit to
  /// any of them can make the tree dirty.
  static func packageFiles(_ package: Package) -> [URL] {
    let root = package.directoryURL
    var files = [root.appending(path: "Package.swift")]
    for target in package.targets {
      if let module = target as? any SourceModuleTarget {
        files += module.sourceFiles.map(\.url)
      }
    }
    for folder in ["Pipelines", "Scripts", "Plugins"] {
      let directory = root.appending(path: folder)
      let names = (try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? []
      files += names.sorted().map { directory.appending(path: $0) }
        .filter { !Self.isDirectory($0) }
    }
    return files
  }

  private static func isDirectory(_ url: URL) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
      && isDirectory.boolValue
  }
}

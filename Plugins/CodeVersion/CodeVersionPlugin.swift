import Foundation
import PackagePlugin

/// Lets a binary know the code it was built from.
///
/// Before every build of the target it is applied to, runs `Scripts/code-version` on the
/// package's checkout. The script writes `CodeVersion.swift` (enum `BuildCodeVersion`: the
/// commit, and whether the tree had changes outside `Reports/`) into the plugin's work
/// directory, which the target compiles. Manifests and bundles then record the code of the
/// binary that computed them, even when it runs in another checkout or none.
@main
struct CodeVersionPlugin: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
    let package = context.package.directoryURL
    let output = context.pluginWorkDirectoryURL.appending(path: "generated")
    return [
      .prebuildCommand(
        displayName: "Recording the code version of \(target.name)",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: [
          package.appending(path: "Scripts/code-version").path, package.path, output.path,
        ],
        // SwiftPM starts the command with an empty environment: git needs PATH to be found
        // where it is installed, and HOME for the user's settings.
        environment: ProcessInfo.processInfo.environment.filter {
          ["PATH", "HOME"].contains($0.key)
        },
        outputFilesDirectory: output
      )
    ]
  }
}

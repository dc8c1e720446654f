import Foundation

/// The command lines the tool prints for the user to run (how to resume, what frees space,
/// where a bundle comes from), spelled and quoted in one place so that a test can parse every
/// suggestion with the tool's own parser (`SuggestedCommandTests`).
enum SuggestedCommand {
  /// The program as the user invoked it: the wrapper when `Scripts/dbal` started the binary (it
  /// exports `DBAL_INVOKED_AS="$0"`), else the path the binary was started by.
  static func invokedProgram(
    arguments: [String] = CommandLine.arguments,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    if let wrapper = environment["DBAL_INVOKED_AS"], !wrapper.isEmpty { return wrapper }
    return arguments.first ?? "pipeline"
  }

  /// This invocation again, as the user typed it (the program as invoked, then the same
  /// arguments), ready to paste into a shell.
  static func again(
    arguments: [String] = CommandLine.arguments,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    shellLine(
      [invokedProgram(arguments: arguments, environment: environment)] + arguments.dropFirst()
    )
  }

  /// Another subcommand of the tool, run the way the user invoked this one.
  static func tool(
    _ arguments: [String],
    invokedAs program: String = invokedProgram()
  ) -> String {
    shellLine([program] + arguments)
  }

  /// `pipeline status` or `pipeline cancel` (`subcommand`) of a run submitted to Slurm, the
  /// way the user invoked the submitting command.
  static func slurmRun(
    _ subcommand: String,
    target: String,
    profile: ProfileOptions,
    cells: String?,
    dataDirectory: String,
    arguments: [String] = CommandLine.arguments,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    tool(
      [subcommand, target, "--profile", profile.profile]
        + profile.overrides.flatMap { ["--set", $0] } + (cells.map { ["--cells", $0] } ?? [])
        + ["--data-dir", dataDirectory],
      invokedAs: invokedProgram(arguments: arguments, environment: environment)
    )
  }

  /// `words` as one line that a POSIX shell splits back into exactly these words: a word of
  /// anything but ASCII letters, digits and `-_./=:,@%+` (an empty word too) is single-quoted.
  static func shellLine(_ words: [String]) -> String {
    words.map(shellWord).joined(separator: " ")
  }

  /// One word, quoted where the shell needs it.
  static func shellWord(_ word: String) -> String {
    let plain = word.unicodeScalars.allSatisfy { scalar in
      scalar.isASCII
        && (CharacterSet.alphanumerics.contains(scalar)
          || "-_./=:,@%+".unicodeScalars.contains(scalar))
    }
    return !word.isEmpty && plain
      ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}

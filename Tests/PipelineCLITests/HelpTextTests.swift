import ArgumentParser
import Experiments
import Foundation
import Testing

@testable import PipelineCLI

/// `--help` of the root and every subcommand, at 80 columns: no word wrapped onto a line of its
/// own, every default stated once, every `--set` key listed with each profile's value.
@Suite("Help text")
struct HelpTextTests {
  /// One problem in one help screen.
  struct Finding: CustomStringConvertible, Equatable {
    var command: String
    /// The option (`--profile`), argument (`<target>`) or section (`OVERVIEW`) it is in.
    var block: String
    var problem: String
    var description: String { "\(command) --help, \(block): \(problem)" }
  }

  /// Every help screen, by the command's name.
  static var screens: [(command: String, help: String)] {
    SuggestedCommandTests.allCommands.map { command in
      (
        SuggestedCommandTests.name(of: command),
        PipelineCommand.helpMessage(for: command, columns: 80)
      )
    }
  }

  @Test("No help line is a single word stranded by the wrapping")
  func noStrandedWords() {
    var findings: [Finding] = []
    for (command, help) in Self.screens {
      for (block, line) in Self.blocks(of: help) {
        let words = line.split(whereSeparator: \.isWhitespace)
        // A section header (`OPTIONS:`) is a line of one word by design.
        guard words.count == 1, !(words[0].hasSuffix(":") && words[0].uppercased() == words[0])
        else { continue }
        findings.append(Finding(command: command, block: block, problem: "stranded \"\(line)\""))
      }
    }
    expectNone(findings)
  }

  @Test("Each option states its default at most once")
  func defaultsStatedOnce() {
    var findings: [Finding] = []
    for (command, help) in Self.screens {
      var text: [String: String] = [:]
      var order: [String] = []
      for (block, line) in Self.blocks(of: help) where block.hasPrefix("-") || block.hasPrefix("<")
      {
        if text[block] == nil { order.append(block) }
        text[block, default: ""] += " " + line
      }
      for block in order {
        // "(default: x)", "paper (default)", "Defaults to $X": one mention of the default.
        let mentions = text[block]!.lowercased().matches(of: /default/).count
        if mentions > 1 {
          findings.append(
            Finding(
              command: command,
              block: block,
              problem:
                "default stated \(mentions) times: \(text[block]!.split(separator: " ").joined(separator: " "))"
            )
          )
        }
      }
    }
    expectNone(findings)
  }

  @Test("--help of every command taking --set lists each key with each profile's value")
  func everySetKeyListed() throws {
    let reproduce = try #require(Self.screens.first { $0.command == "pipeline reproduce" })
    var checked = 0
    for (command, help) in Self.screens where help.contains("--set <key=value>") {
      let text = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
      let profiles = Profile.all.map(\.name).joined(separator: " / ")
      #expect(text.contains(profiles), "\(command) --help names the profiles \(profiles)")
      for spec in ProfileOverride.specs {
        let entry =
          "\(spec.key) "
          + Profile.all.map { spec.value(in: $0.parameters) }.joined(separator: " / ")
        #expect(text.contains(entry), "\(command) --help lacks \"\(entry)\"")
      }
      checked += 1
    }
    #expect(reproduce.help.contains("--set <key=value>"))
    #expect(checked >= 5, "reproduce, status, report, replay and export take --set")
  }

  // MARK: - Helpers

  /// Records the findings, if any, as one issue that lists them.
  private func expectNone(_ findings: [Finding], sourceLocation: SourceLocation = #_sourceLocation)
  {
    #expect(
      findings.isEmpty,
      "\n\(findings.map(\.description).joined(separator: "\n"))",
      sourceLocation: sourceLocation
    )
  }

  /// The non-empty lines of a help screen with the block each belongs to: the option or
  /// argument whose description it continues, else the section (`OVERVIEW`, `USAGE`, ...).
  static func blocks(of help: String) -> [(block: String, line: String)] {
    var result: [(String, String)] = []
    var section = "OVERVIEW"
    var block = section
    for line in help.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
      if let header = line.firstMatch(of: /^([A-Z]+):/) {
        section = String(header.output.1)
        block = section
      } else if section == "OPTIONS" || section == "ARGUMENTS" {
        // An entry starts at two spaces of indentation; its description lines lie deeper.
        if line.hasPrefix("  "), !line.hasPrefix("   "),
          let name = line.split(separator: " ").first
        {
          block = String(name.trimmingCharacters(in: CharacterSet(charactersIn: ",")))
        }
      }
      result.append((block, line))
    }
    return result
  }
}

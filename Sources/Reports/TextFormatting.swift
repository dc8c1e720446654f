import Foundation

/// Deterministic, locale-independent formatting and escaping shared by the writers.
public enum TextFormatting {
  // MARK: - Numbers

  /// `value` with exactly `digits` decimals, using `.` and never printing `-0.00`.
  static func fixed(_ value: Double, digits: Int) -> String {
    let text = String(format: "%.\(digits)f", value)
    if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
      return String(text.dropFirst())
    }
    return text
  }

  /// A duration such as `42.0 s`, `12 min 05 s` or `3 h 07 min`.
  static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "unknown" }
    if seconds < 60 { return fixed(seconds, digits: 1) + " s" }
    let whole = Int(seconds.rounded())
    let hours = whole / 3600
    let minutes = (whole % 3600) / 60
    let secs = whole % 60
    if hours > 0 { return "\(hours) h " + twoDigits(minutes) + " min" }
    return "\(minutes) min " + twoDigits(secs) + " s"
  }

  /// A compact duration for progress lines, such as `42s`, `12m05s` or `3h07m`.
  static func compactDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--" }
    let whole = Int(seconds.rounded())
    let hours = whole / 3600
    let minutes = (whole % 3600) / 60
    let secs = whole % 60
    if hours > 0 { return "\(hours)h" + twoDigits(minutes) + "m" }
    if minutes > 0 { return "\(minutes)m" + twoDigits(secs) + "s" }
    return "\(secs)s"
  }

  /// A byte count in binary units, such as `125.8 GiB`.
  public static func bytes(_ count: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(count) B" : fixed(value, digits: 1) + " " + units[unit]
  }

  private static func twoDigits(_ value: Int) -> String {
    value < 10 ? "0\(value)" : "\(value)"
  }

  // MARK: - Escaping

  /// `text` safe inside XML/HTML text and attribute values.
  static func xmlEscaped(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "&": escaped += "&amp;"
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "\"": escaped += "&quot;"
      case "'": escaped += "&#39;"
      default: escaped.append(character)
      }
    }
    return escaped
  }

  /// `text` as literal Markdown inline text: punctuation that could start markup is
  /// backslash-escaped, `<` and `>` become entities, and line breaks become spaces.
  static func markdownEscaped(_ text: String) -> String {
    var escaped = ""
    for character in text {
      switch character {
      case "\\", "`", "*", "_", "[", "]", "|", "#", "!":
        escaped += "\\" + String(character)
      case "<": escaped += "&lt;"
      case ">": escaped += "&gt;"
      case "\n", "\r\n", "\r": escaped += " "
      default: escaped.append(character)
      }
    }
    return escaped
  }

  /// `text` as a Markdown code span, with enough backticks to contain any in the text.
  static func markdownCode(_ text: String) -> String {
    let flat = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(
      of: "|",
      with: "\\|"
    )
    var longestRun = 0
    var run = 0
    for character in flat {
      run = character == "`" ? run + 1 : 0
      longestRun = max(longestRun, run)
    }
    let fence = String(repeating: "`", count: longestRun + 1)
    let padding = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
    return fence + padding + flat + padding + fence
  }

  /// `text` as one RFC 4180 CSV field: quoted when it holds a comma, quote or line break.
  static func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

/// The `key: value` lines of one DBAL block, checked against the keys its kind allows.
struct BlockBody {
  /// One `key: value` line.
  struct Entry {
    var key: String
    var value: String
    var line: Int
  }

  let kind: BlockKind
  let file: String
  /// The 1-based line of the opening fence, where missing keys are reported.
  let openingLine: Int
  private var entries: [String: Entry] = [:]

  /// Reads `lines` (numbered 1-based) into entries; blank lines and `#` comments are skipped.
  init(
    kind: BlockKind,
    allowedKeys: [String],
    lines: [NumberedLine],
    file: String,
    openingLine: Int
  ) throws(NotebookError) {
    self.kind = kind
    self.file = file
    self.openingLine = openingLine
    for line in lines {
      let text = line.text.trimmingWhitespace()
      if text.isEmpty || text.hasPrefix("#") { continue }
      guard let colon = text.firstIndex(of: ":") else {
        throw NotebookError(file: file, line: line.number, problem: .malformedLine(text: text))
      }
      let key = String(text[..<colon]).trimmingWhitespace()
      let value = String(text[text.index(after: colon)...]).trimmingWhitespace()
      guard allowedKeys.contains(key) else {
        throw NotebookError(
          file: file,
          line: line.number,
          problem: .unknownKey(key: key, block: kind, allowed: allowedKeys)
        )
      }
      if let first = entries[key] {
        throw NotebookError(
          file: file,
          line: line.number,
          problem: .duplicateKey(key: key, block: kind, firstLine: first.line)
        )
      }
      entries[key] = Entry(key: key, value: value, line: line.number)
    }
  }

  // MARK: - Lookup

  /// The entry for `key`, or nil when the block does not give it.
  func optional(_ key: String) -> Entry? { entries[key] }

  /// The entry for `key`; throws `missingKey` at the opening fence when absent.
  func required(_ key: String) throws(NotebookError) -> Entry {
    guard let entry = entries[key] else {
      throw NotebookError(
        file: file,
        line: openingLine,
        problem: .missingKey(key: key, block: kind)
      )
    }
    return entry
  }

  // MARK: - Typed values

  /// An error for `entry` saying which values would have been accepted.
  func invalid(_ entry: Entry, expected: String, value: String? = nil) -> NotebookError {
    NotebookError(
      file: file,
      line: entry.line,
      problem: .invalidValue(key: entry.key, value: value ?? entry.value, expected: expected)
    )
  }

  /// The entry parsed as one case of `Choice`, by raw value.
  func choice<Choice: RawRepresentable & CaseIterable>(
    _ entry: Entry,
    as _: Choice.Type = Choice.self
  ) throws(NotebookError) -> Choice where Choice.RawValue == String {
    guard let choice = Choice(rawValue: entry.value) else {
      throw invalid(entry, expected: Self.oneOf(Choice.allCases.map(\.rawValue)))
    }
    return choice
  }

  /// The entry parsed as a non-empty, duplicate-free, comma-separated list of `Choice`.
  func choiceList<Choice: RawRepresentable & CaseIterable & Hashable>(
    _ entry: Entry,
    as _: Choice.Type = Choice.self
  ) throws(NotebookError) -> [Choice] where Choice.RawValue == String {
    let allowed = Self.oneOf(Choice.allCases.map(\.rawValue))
    var choices: [Choice] = []
    for item in try list(entry) {
      guard let choice = Choice(rawValue: item) else {
        throw invalid(entry, expected: "a comma-separated list of \(allowed)", value: item)
      }
      guard !choices.contains(choice) else {
        throw invalid(entry, expected: "each name at most once", value: item)
      }
      choices.append(choice)
    }
    return choices
  }

  /// The entry split at commas, items trimmed; empty lists and empty items are errors.
  func list(_ entry: Entry) throws(NotebookError) -> [String] {
    let items = entry.value.split(separator: ",", omittingEmptySubsequences: false)
      .map { String($0).trimmingWhitespace() }
    guard !entry.value.trimmingWhitespace().isEmpty, !items.contains(where: \.isEmpty) else {
      throw invalid(entry, expected: "a comma-separated list without empty items")
    }
    return items
  }

  /// The entry as an integer of at least 1.
  func positiveInteger(_ entry: Entry) throws(NotebookError) -> Int {
    guard let number = Int(entry.value), number >= 1 else {
      throw invalid(entry, expected: "a whole number of at least 1")
    }
    return number
  }

  /// The entry as an id usable in file names: letters, digits, `-` and `_`.
  func identifier(_ entry: Entry) throws(NotebookError) -> String {
    let value = entry.value
    guard !value.isEmpty, value.unicodeScalars.allSatisfy(Self.isIdentifierScalar),
      !value.hasPrefix("-")
    else {
      throw invalid(
        entry,
        expected: "an id of ASCII letters, digits, '-' and '_' (it names asset files)"
      )
    }
    return value
  }

  /// The entry as free text; an empty value is an error.
  func text(_ entry: Entry) throws(NotebookError) -> String {
    guard !entry.value.isEmpty else { throw invalid(entry, expected: "non-empty text") }
    return entry.value
  }

  // MARK: - Helpers

  static func oneOf(_ names: [String]) -> String {
    names.count == 1 ? "'\(names[0])'" : "one of " + names.map { "'\($0)'" }.joined(separator: ", ")
  }

  static func isIdentifierScalar(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII
      && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
        || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_")
  }
}

/// A line of the document with its 1-based number.
struct NumberedLine {
  var number: Int
  var text: String
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  func trimmingWhitespace() -> String {
    var scalars = Substring(self)
    while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(scalars)
  }
}

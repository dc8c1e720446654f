/// Splits a command line into words the way a POSIX shell does for a simple command, without
/// running anything: single quotes keep everything, double quotes keep everything but `\"`,
/// `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next character, `#`
/// at the start of a word begins a comment, and an unquoted `>`, `<`, `|`, `;` or `&` ends the
/// command (what follows is another command or a redirection). An unquoted `$` or backquote
/// (an expansion the shell would perform) and an unterminated quote are errors: a suggested
/// command must mean the same pasted into any shell.
enum ShellWords {
  struct Problem: Error, CustomStringConvertible {
    var description: String
  }

  static func split(_ line: String) throws -> [String] {
    var words: [String] = []
    var word = ""
    var inWord = false
    var characters = Array(line)[...]
    func finishWord() {
      if inWord { words.append(word) }
      word = ""
      inWord = false
    }
    while let character = characters.popFirst() {
      switch character {
      case " ", "\t", "\n":
        finishWord()
      case "#" where !inWord:
        return words
      case ">", "<", "|", ";", "&":
        finishWord()
        return words
      case "$", "`":
        throw Problem(description: "unquoted \(character) in \(line): the shell would expand it")
      case "\\":
        guard let next = characters.popFirst() else {
          throw Problem(description: "a trailing backslash in \(line)")
        }
        inWord = true
        if next != "\n" { word.append(next) }
      case "'":
        inWord = true
        guard let end = characters.firstIndex(of: "'") else {
          throw Problem(description: "an unterminated single quote in \(line)")
        }
        word += characters[..<end]
        characters = characters[(end + 1)...]
      case "\"":
        inWord = true
        var closed = false
        while let inner = characters.popFirst() {
          if inner == "\"" {
            closed = true
            break
          }
          if inner == "$" || inner == "`" {
            throw Problem(description: "\(inner) inside double quotes in \(line): it expands")
          }
          if inner == "\\", let escaped = characters.first, "\"\\$`\n".contains(escaped) {
            characters = characters.dropFirst()
            if escaped != "\n" { word.append(escaped) }
          } else {
            word.append(inner)
          }
        }
        guard closed else { throw Problem(description: "an unterminated double quote in \(line)") }
      default:
        inWord = true
        word.append(character)
      }
    }
    finishWord()
    return words
  }
}

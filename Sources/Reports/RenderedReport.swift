import Foundation

/// A rendered report: Markdown and HTML texts plus the figure assets both refer to.
public struct RenderedReport: Sendable, Equatable {
  /// The base name (`fig2`): files are `<name>.md`, `<name>.html` and `<name>/…`.
  public var name: String
  /// The Markdown report; figures are referenced by relative paths into `<name>/`.
  public var markdown: String
  /// The self-contained HTML page: inline CSS and SVG, no scripts, no external resources.
  public var html: String
  /// Figure SVGs and CSVs, with paths relative to the reports directory.
  public var assets: [ReportAsset]

  /// Creates a rendered report.
  public init(name: String, markdown: String, html: String, assets: [ReportAsset]) {
    self.name = name
    self.markdown = markdown
    self.html = html
    self.assets = assets
  }

  /// Writes `<name>.md`, `<name>.html` and the assets under `reportsDirectory`, creating
  /// folders as needed. Each file is replaced atomically, so readers never see half a file.
  ///
  /// - Returns: The URLs written, in a stable order (Markdown, HTML, assets).
  /// - Throws: ``ReportError/writeFailed(path:reason:)``.
  @discardableResult
  public func write(to reportsDirectory: URL) throws(ReportError) -> [URL] {
    let files =
      [
        ReportAsset(path: "\(name).md", contents: markdown),
        ReportAsset(path: "\(name).html", contents: html),
      ] + assets
    var written: [URL] = []
    for file in files {
      let url = reportsDirectory.appendingPathComponent(file.path)
      do {
        try FileManager.default.createDirectory(
          at: url.deletingLastPathComponent(),
          withIntermediateDirectories: true
        )
        try Data(file.contents.utf8).write(to: url, options: .atomic)
      } catch {
        throw ReportError.writeFailed(path: url.path, reason: error.localizedDescription)
      }
      written.append(url)
    }
    return written
  }
}

/// A file that belongs to a report, such as `fig2/accuracy-curves.svg`.
public struct ReportAsset: Sendable, Equatable {
  /// The path relative to the reports directory, with `/` separators.
  public var path: String
  /// The file's UTF-8 text.
  public var contents: String

  /// Creates an asset.
  public init(path: String, contents: String) {
    self.path = path
    self.contents = contents
  }
}

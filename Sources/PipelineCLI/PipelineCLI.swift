// Placeholder for the `pipeline` command-line tool.
@main
enum PipelineCLI {
  static func main() { print("pipeline: under construction") }
}

import ArgumentParser

/// The `pipeline` command: reproduce, inspect and verify the experiments of Gal, Islam &
/// Ghahramani (2017) as a content-hashed, resumable pipeline.
@main
struct PipelineCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pipeline",
    abstract: "Deep Bayesian Active Learning (Gal et al. 2017), reproducibly.",
    discussion: """
      Every result is the output of declared stages cached under content-hashed keys in \
      <data-dir>/cache. An interrupted run resumes where it stopped: rerun the same command. \
      The targets are the literate documents in Pipelines/, listed by `pipeline list`.
      """,
    version: ToolInfo.version,
    subcommands: [
      Reproduce.self, Status.self, Report.self, Replay.self, List.self, Fetch.self, Predict.self,
      Bench.self, GarbageCollect.self, Export.self, Import.self, Cancel.self, Inspect.self,
    ]
  )
}

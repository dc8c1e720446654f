import Foundation
import Reports
import Testing

/// `pipeline bench` names the machine its numbers depend on: the thread count and the CPU.
@Suite("Bench", .timeLimit(.minutes(5)))
struct BenchTests {
  @Test("bench --json and its text header name the OpenMP thread count and the CPU model")
  func namesThreadsAndCPU() throws {
    let cpu = Reports.SystemInfo.current().cpuModel
    for threads in [1, 3] {
      let prefix = "export OMP_NUM_THREADS=\(threads)"
      let run = try PipelineProcess.run(
        ["bench", "--json", "--only", "gemm_reference"],
        shellPrefix: prefix
      )
      try #require(run.succeeded, "\(run)")
      let object = try #require(
        try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any]
      )
      #expect(object["threads"] as? Int == threads, "\(run.standardOutput)")
      #expect(object["cpu"] as? String == cpu, "\(run.standardOutput)")
      #expect(object["gemm_reference"] != nil, "\(run.standardOutput)")
      let text = try PipelineProcess.run(
        ["bench", "--only", "gemm_reference"],
        shellPrefix: prefix
      )
      try #require(text.succeeded, "\(text)")
      let header = text.standardOutput.split(separator: "\n").first ?? ""
      #expect(header.hasSuffix(", \(threads) threads, \(cpu)"), "\(header)")
    }
  }

  @Test("bench --only with an unknown workload names the workloads instead of measuring nothing")
  func refusesUnknownWorkloads() throws {
    let run = try PipelineProcess.run(["bench", "--only", "evaluate_10k,nosuch"])
    #expect(!run.succeeded)
    #expect(run.standardError.contains("--only 'nosuch' is not a workload"), "\(run)")
    #expect(run.standardError.contains("train_1000") && run.standardError.contains("score_bald"))
  }
}

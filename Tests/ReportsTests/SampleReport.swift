import Foundation
import Notebook
import Reports

/// Realistic synthetic inputs for the `NotebookFixtures.figure2` document: three panels of two
/// series, three repetitions of 99 rounds each, a table and full provenance.
enum SampleReport {
  static let acquisitions = [
    ("bald", "BALD"), ("var-ratios", "Var Ratios"), ("max-entropy", "Max Entropy"),
  ]

  /// A smooth learning curve with small deterministic wiggles (no generator needed: the
  /// "noise" is a fixed function of its arguments).
  static func accuracy(round: Int, repetition: Int, offset: Double) -> Double {
    let x = Double(round * 10)
    let wiggle = sin(Double(round) * 12.9898 + Double(repetition) * 78.233 + offset) * 0.012
    return min(0.995, 1 - 0.42 * exp(-x / (140 + offset * 40)) - 0.02 + wiggle)
  }

  static func runs(offset: Double, rounds: Int = 99, repetitions: Int = 3) -> [CurveRun] {
    (0..<repetitions).map { repetition in
      CurveRun(
        repetition: repetition,
        points: (0..<rounds).map { round in
          let mc = accuracy(round: round, repetition: repetition, offset: offset)
          return CurvePoint(
            acquired: round * 10,
            labelled: 20 + round * 10,
            accuracyMC: mc,
            accuracyDeterministic: mc - 0.004
          )
        }
      )
    }
  }

  static func figure(rounds: Int = 99, repetitions: Int = 3) -> FigureData {
    FigureData(
      id: "accuracy-curves",
      panels: acquisitions.enumerated().map { index, acquisition in
        FigurePanel(
          title: acquisition.1,
          series: [
            CurveSeries(
              label: "Bayesian CNN",
              configuration: "\(acquisition.0).bayesian",
              color: .bayesian,
              runs: runs(offset: Double(index), rounds: rounds, repetitions: repetitions)
            ),
            CurveSeries(
              label: "Deterministic CNN",
              configuration: "\(acquisition.0).deterministic",
              color: .deterministic,
              runs: runs(offset: Double(index) + 1.5, rounds: rounds, repetitions: repetitions)
            ),
          ]
        )
      }
    )
  }

  static let table = TableData(
    columns: ["Test error", "BALD", "Var Ratios", "Max Entropy", "Paper (Var Ratios)"],
    rows: [["10%", "150", "130", "170", "120"], ["5%", "340", "300", "360", "295"]],
    notes: [
      "Mean over 3 repetitions of the first round reaching the error; paper values from Table 1."
    ]
  )

  static let provenance = Provenance(
    command: "pipeline reproduce fig2 --profile paper",
    workingDirectory: "/work/main",
    gitCommit: "03cbd08e1f2a4b5c6d7e8f90a1b2c3d4e5f6a7b8",
    gitDirty: false,
    profile: "paper",
    profileNotice: nil,
    parameters: [
      NamedValue(name: "rounds", value: "98"), NamedValue(name: "acquired-per-round", value: "10"),
      NamedValue(name: "initial-labelled", value: "20 (2 per class)"),
      NamedValue(name: "epochs", value: "50"), NamedValue(name: "mc-samples", value: "20"),
      NamedValue(name: "weight-decay-c", value: "3.5"), NamedValue(name: "pool", value: "all"),
    ],
    parametersDigest: "5d41402abc4b2a76b9719d911017c592ae1f0f4b6e8c7d3a2b1c0d9e8f7a6b5c",
    rootSeed: 20_170_302,
    inputs: [
      NamedValue(name: "train-images-idx3-ubyte.gz", value: "")
    ].map { InputDigest(name: $0.name, sha256: String(repeating: "ab", count: 32)) },
    cells: acquisitions.flatMap { acquisition in
      ["bayesian", "deterministic"].map {
        CellExecution(
          cell: "\(acquisition.0).\($0)",
          roundsCached: 200,
          roundsExecuted: 97,
          computeSeconds: 5432.1,
          computedBy: ["4a316bf, jit:avx512_core, 2 threads, AMD EPYC: 1188 stages"]
        )
      }
    },
    software: SoftwareVersions(
      swift: "6.3.1",
      hdf5: "1.10.8",
      oneDNN: "2.6.3",
      oneDNNISA: "AVX-512"
    ),
    system: SystemInfo(
      cpuModel: "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz",
      cores: 16,
      memoryBytes: 134_217_728 * 1024,
      operatingSystem: "Linux 6.1.0"
    ),
    wallSeconds: 36_123.4
  )

  static let values: [String: String] = [
    "rounds": "98", "repetitions": "3", "profile": "paper",
    "final.mc.bald.bayesian": "98.12%", "final.mc.bald.deterministic": "97.40%",
  ]

  static func inputs(completeness: ReportCompleteness = .complete) -> ReportInputs {
    ReportInputs(
      figures: ["accuracy-curves": figure()],
      tables: ["acquired-to-error": table],
      values: values,
      provenance: provenance,
      completeness: completeness
    )
  }
}

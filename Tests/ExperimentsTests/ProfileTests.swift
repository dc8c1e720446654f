import Acquisition
import Experiments
import PipelineCore
import Testing

@Test func overridesApplyInOrderAndAreRecorded() throws {
  let profile = Profile.quick.applying([
    try ProfileOverride(parsing: "rounds=30"), try ProfileOverride(parsing: "weight-decay=2.5"),
  ])
  #expect(profile.parameters.rounds == 30)
  #expect(profile.parameters.weightDecay == 2.5)
  #expect(profile.overrides.map(\.description) == ["rounds=30", "weight-decay=2.5"])
  #expect(Profile.quick.parameters.rounds != 30, "profiles are values; the original is unchanged")
}

@Test(arguments: [
  ("roundz=3", "unknown parameter \"roundz\""),
  ("rounds=-1", "out of range"),
  ("rounds=2.5", "expected an integer"),
  ("epochs=abc", "invalid value \"abc\""),
  ("rounds", "expected key=value"),
])
func badOverridesAreRejectedWithTheReason(text: String, message: String) {
  #expect {
    _ = try ProfileOverride(parsing: text)
  } throws: { error in
    "\(error)".contains(message)
  }
}

@Test func unknownProfileListsTheKnownOnes() {
  #expect {
    _ = try Profile.named("fast")
  } throws: { error in
    "\(error)".contains("paper, quick, smoke")
  }
}

@Test func paperProfileIsThePaperProtocol() {
  let p = Profile.paper.parameters
  #expect(p.initialLabelled == 20)
  #expect(p.acquireCount == 10)
  #expect(p.totalAcquired == 1000)
  #expect(p.mcSamples == 100)
  #expect(p.poolSubset == 2000)
  #expect(p.epochs == 50 && p.batchSize == 128)
  #expect(p.weightDecay == 3.5)
  #expect(p.repetitions == 3)
}

@Test func calibrationEveryNMeasuresRoundsZeroNTwoNAndTheLast() throws {
  let every10 = try #require(CalibrationMeasurement(rawValue: "every-10"))
  #expect(every10 == .every(10))
  #expect((0...25).filter { every10.measures(round: $0, of: 25) } == [0, 10, 20, 25])
  #expect((0...100).filter { every10.measures(round: $0, of: 100) }.count == 11)
  #expect(CalibrationMeasurement(rawValue: "every-1") == .on, "every round is spelled on")
  #expect((0...3).allSatisfy { CalibrationMeasurement.on.measures(round: $0, of: 3) })
  #expect(!(0...3).contains { CalibrationMeasurement.off.measures(round: $0, of: 3) })
  for text in ["on", "off", "every-10"] {
    #expect(CalibrationMeasurement(rawValue: text)?.rawValue == text)
  }
  #expect(try ProfileOverride(parsing: "calibration=every-5").value == "every-5")
}

@Test(arguments: ["every-0", "every-", "every-x", "every-2.5", "sometimes"])
func badCalibrationValuesNameTheAcceptedSpellings(text: String) {
  #expect {
    _ = try ProfileOverride(parsing: "calibration=\(text)")
  } throws: { error in
    "\(error)".contains("calibration") && "\(error)".contains("on, off, every-N")
  }
}

@Test func thePaperProfileCalibratesEveryTenthRoundOfEachCell() throws {
  let plan = try ExperimentPlan(
    target: "fig2",
    profile: .paper,
    cells: [Cell(acquisition: .bald, model: .mcDropout, repetition: 0)],
    resources: .init()
  )
  let rounds = plan.graph.nodes.filter { $0.id.description.hasSuffix("/calibrate") }
    .compactMap(\.round).sorted()
  #expect(rounds == Array(stride(from: 0, through: 100, by: 10)))
}

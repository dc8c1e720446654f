import Experiments
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

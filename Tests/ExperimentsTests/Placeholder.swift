import Testing

@Test func placeholderExperimentsTests() {}

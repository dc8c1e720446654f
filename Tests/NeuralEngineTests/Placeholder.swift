import Testing

@Test func placeholderNeuralEngineTests() {}

import Testing

@Test func placeholderPipelineCoreTests() {}

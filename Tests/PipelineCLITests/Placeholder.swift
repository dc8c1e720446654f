import Testing

@Test func placeholderPipelineCLITests() {}

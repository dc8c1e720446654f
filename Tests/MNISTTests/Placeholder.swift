import Testing

@Test func placeholderMNISTTests() {}

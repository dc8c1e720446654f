import Testing

@Test func placeholderAcquisitionTests() {}

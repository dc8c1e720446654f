import Testing

@Test func placeholderHDF5StoreTests() {}

import Testing

@Test func placeholderNotebookTests() {}

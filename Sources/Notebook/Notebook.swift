// Placeholder: the Notebook module is being written.

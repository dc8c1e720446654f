// Placeholder: the Reports module is being written.

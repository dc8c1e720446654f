// Placeholder: the Experiments module is being written.

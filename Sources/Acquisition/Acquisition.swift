// Placeholder: the Acquisition module is being written.

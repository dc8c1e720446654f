// Placeholder: the MNIST module is being written.

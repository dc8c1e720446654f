// Placeholder: the HDF5Store module is being written.

// Placeholder: the PipelineCore module is being written.

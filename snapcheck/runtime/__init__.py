"""Where and how the work runs: executors (serial, local processes, Dask), resumable partial results, the command-line conventions."""

"""Where and how the work runs.

Executors (serial, local processes, Dask), resumable partial results, the command-line conventions.
"""

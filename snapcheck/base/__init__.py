"""The bottom layer: the error hierarchy, atomic file writes and progress bars.

Everything else in snapcheck imports from here; this package imports nothing
of snapcheck's own.
"""

"""The job pipeline: the worker's side (download, stylize, report progress, deliver, fail cleanly)."""

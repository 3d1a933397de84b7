"""Models of the reporting app (built by its own issue)."""

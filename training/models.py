"""Models of the training app (built by its own issue)."""

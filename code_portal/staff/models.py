"""Models of the staff app."""

"""Domain errors raised by services; views and the API turn them into clear messages."""


class DomainError(Exception):
    """A request that the current state of things does not allow (HTTP 409 / form error)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

"""The API's input errors: JSON ``{"error": {"code", "message", "field"}}`` with 400 or 422."""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be accepted; ``status`` is 400 for a malformed body, 422 for a bad field."""

    def __init__(
        self, message: str, field: str | None = None, code: str = "invalid", status: int = 422
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.status = status


def malformed(message: str) -> InputError:
    """A body that is not the JSON object the endpoint takes (400)."""
    return InputError(message, field=None, code="bad_request", status=400)

"""The application's error hierarchy. Services raise these with a Chinese message that says
what is wrong and where; views show it next to the field, the API returns it as
{"detail": message, "code": code, "field": field}."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "invalid"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class StaleEdit(Conflict):
    code = "stale"


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"

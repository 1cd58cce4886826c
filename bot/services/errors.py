"""Domain errors. Their message is shown to the person as is: say what was wrong and what to
type instead."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a listener turns into a reply. `field` names the modal input the
    message belongs to, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    """The thing named does not exist in this workspace (or is not visible from it)."""


class Forbidden(DomainError):
    """The person may not do this; the message says who can."""


class Invalid(DomainError):
    """The input cannot be accepted; the message says what to type instead."""

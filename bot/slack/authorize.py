"""Authorization that tells "not installed" from "cannot tell right now".

Bolt answers any request it cannot authorize with 200 ("please reinstall"), so an event that
arrives while the database is away, or while the stored token no longer decrypts, would be
acknowledged and never retried. Here the installation store notes why a look-up failed, and
that failure is raised as `AuthorizationUnavailable`, which the app turns into a spooled event
or a 503 (Slack redelivers) and a "try again in a minute" for a person.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize

_failure: ContextVar[BaseException | None] = ContextVar("installation_store_failure", default=None)


class AuthorizationUnavailable(Exception):
    """The installation store could not be read; the request's workspace may well be ours."""


def note_store_failure(exc: BaseException) -> None:
    """Called by the installation store when a look-up fails for a reason other than absence."""
    _failure.set(exc)


class StoreAuthorize(AsyncInstallationStoreAuthorize):
    async def __call__(self, **kwargs: Any) -> AuthorizeResult | None:
        token = _failure.set(None)
        try:
            result = await super().__call__(**kwargs)
            failure = _failure.get()
        finally:
            _failure.reset(token)
        if result is None and failure is not None:
            raise AuthorizationUnavailable(type(failure).__name__) from failure
        return result

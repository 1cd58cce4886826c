"""How a method is declared: its rate-limit tier and the scope its token needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.emulator.state import ApiError, SlackState, Token, Workspace


@dataclass
class Call:
    """One Web API call as a method handler sees it."""

    method: str
    state: SlackState
    args: dict[str, Any]
    token: Token | None  # None only for methods authenticated by client id and secret
    workspace: Workspace | None
    base_url: str  # where the emulator listens, e.g. "http://127.0.0.1:5555/"
    emulator: Any  # the SlackEmulator (for settings such as OAuth clients)

    @property
    def ws(self) -> Workspace:
        assert self.workspace is not None
        return self.workspace

    def arg(self, name: str, *, required: bool = True) -> Any:
        value = self.args.get(name)
        if required and value in (None, ""):
            raise ApiError("invalid_arguments", response_metadata={"messages": [f"missing {name}"]})
        return value


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    handler: Handler
    tier: int | None  # None: special limits (chat.postMessage) or none
    scopes: tuple[str, ...]  # any one of them suffices; empty: none needed
    auth: str = "token"  # "token" or "client" (oauth.v2.access)


METHODS: dict[str, MethodSpec] = {}


def method(
    name: str, *, tier: int | None, scopes: tuple[str, ...] = (), auth: str = "token"
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = MethodSpec(name, handler, tier, scopes, auth)
        return handler

    return register


def as_bool(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default

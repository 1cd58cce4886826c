"""Events API listeners (the App Home tab has its own module)."""

from __future__ import annotations

from bot.listeners.registry import ListenerRegistry


def register(registry: ListenerRegistry) -> None:
    registry.token_revocation()

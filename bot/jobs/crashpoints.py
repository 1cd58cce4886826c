"""Named crash boundaries for tests: `OKR_CRASHPOINT=<boundary>:<n>` makes the process
SIGKILL itself the nth time it reaches `<boundary>`; in-process tests `arm` one instead,
which raises `SimulatedCrash` (a BaseException nothing in the bot catches).

Boundaries: `claimed` (claim committed, nothing sent), `answered` (Slack answered, nothing
committed), `reconciling` (history read, nothing committed), `uploaded` (a digest chart's
file uploaded and kept on its row, not posted yet).
"""

from __future__ import annotations

import asyncio
import os
import signal

BOUNDARIES = ("claimed", "answered", "reconciling", "uploaded")


class SimulatedCrash(BaseException):
    """The process 'died' here: no cleanup code of ours runs."""


_armed: dict[str, int] = {}
_seen: dict[str, int] = {}


def _from_env() -> tuple[str, int] | None:
    raw = os.environ.get("OKR_CRASHPOINT", "")
    name, _, nth = raw.partition(":")
    if name in BOUNDARIES and nth.isdigit():
        return name, int(nth)
    return None


def arm(boundary: str, nth: int = 1) -> None:
    if boundary not in BOUNDARIES:
        raise ValueError(f"unknown crash boundary {boundary!r}")
    _armed[boundary] = nth
    _seen[boundary] = 0


def disarm() -> None:
    _armed.clear()
    _seen.clear()


def reached(boundary: str) -> None:
    env = _from_env()
    if env is None and boundary not in _armed:
        return
    _seen[boundary] = _seen.get(boundary, 0) + 1
    if env is not None and env[0] == boundary and _seen[boundary] == env[1]:
        os.kill(os.getpid(), signal.SIGKILL)
    if _armed.get(boundary) == _seen[boundary]:
        del _armed[boundary]
        _stop_other_sends()
        raise SimulatedCrash(boundary)


def _stop_other_sends() -> None:
    """As SIGKILL would: every other send in flight stops where it is now, not at whatever
    point the loop next runs it (a post on a kept-alive connection goes out in one step)."""
    try:
        me = asyncio.current_task()
    except RuntimeError:
        return
    for task in asyncio.all_tasks():
        name = getattr(task.get_coro(), "__qualname__", "")
        if task is not me and name == "OutboxSender._guarded":
            task.cancel()

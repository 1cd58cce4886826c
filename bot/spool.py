"""The event spool: where a Slack event goes when the database cannot take it, so that it is
acknowledged without being lost. One JSON line per event, appended and fsynced before the
answer; drained into the inbox, in order and once, when the database answers again (and at
start-up, for events a killed process left behind). It must live on a persistent disk.

Every web process (WEB_CONCURRENCY) appends to the same file and any of them drains it, one
drain at a time: appends hold a short lock (a lock file beside the spool), a drain holds a
second lock for its whole pass and is skipped while another process drains.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MAX_LINE = 1024 * 1024  # a Slack event is far smaller (bodies over 1 MB are refused before)


class SpoolUnavailable(Exception):
    """The spool could not take an event either: the request must fail so Slack retries."""


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Held while the spool is appended to or rewritten (a lock file beside it, so that a
        drain may replace the spool file itself)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, record: dict[str, Any]) -> None:
        """Keep one event, on disk before this returns."""
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        if len(line) > MAX_LINE:
            raise SpoolUnavailable("event too large to spool")
        try:
            with self._locked():
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise SpoolUnavailable(str(exc)) from exc

    def pending(self) -> int:
        """How many events wait (0 when there is no spool file)."""
        try:
            with self.path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
        except FileNotFoundError:
            return 0

    async def drain(self, keep: Callable[[dict[str, Any]], Awaitable[None]]) -> int:
        """Hand each waiting event to `keep`, oldest first; an event leaves the spool only
        once `keep` returned. Stops at the first failure (the database is still away) and
        leaves that event and the ones after it. Returns how many were handed over.

        The lock is not held while `keep` runs (an append from this very process must never
        wait on it): appends only add at the end, and one drain at a time removes from the
        front, so the events handed over are the first lines of the file whatever came since.
        """
        if not self.path.exists():
            return 0
        with self._draining() as mine:
            if not mine:
                return 0  # another process is draining it
            return await self._drain(keep)

    @contextmanager
    def _draining(self) -> Iterator[bool]:
        """One drain at a time across processes: yields False when another holds it."""
        fd = os.open(self.path.with_suffix(".drain"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    async def _drain(self, keep: Callable[[dict[str, Any]], Awaitable[None]]) -> int:
        with self._locked():
            lines = [line for line in self.path.read_bytes().splitlines() if line.strip()]
        done = 0
        try:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    log.error("unreadable spool line dropped")
                    done += 1
                    continue
                try:
                    await keep(record)
                except Exception:  # noqa: BLE001 - still away: this one and the rest wait
                    log.warning("spooled event not stored yet", exc_info=True)
                    break
                done += 1
        finally:
            if done:
                self._drop_first(done)
        return done

    def _drop_first(self, count: int) -> None:
        with self._locked():
            lines = [line for line in self.path.read_bytes().splitlines() if line.strip()]
            rest = b"".join(line + b"\n" for line in lines[count:])
            temporary = self.path.with_suffix(".tmp")
            with temporary.open("wb") as out:
                out.write(rest)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)


async def drain_forever(
    spool: Spool,
    keep: Callable[[dict[str, Any]], Awaitable[None]],
    stop: asyncio.Event,
    *,
    every_seconds: float,
) -> None:
    """Drain the spool now and then until `stop` (a failed pass just waits for the next)."""
    while not stop.is_set():
        if spool.pending():
            try:
                drained = await spool.drain(keep)
                if drained:
                    log.info("spooled events stored", extra={"count": drained})
            except OSError:  # the spool file itself: try again on the next pass
                log.exception("spool not readable")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)
        except TimeoutError:
            pass

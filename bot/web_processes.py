"""Several web processes on one port (`WEB_CONCURRENCY`): one listening socket, bound here and
shared by forked children that each run the whole web app (its own engine, its own event
loop). Slack's 3-second ack window is kept under load by using every core, not by one loop.

The parent only supervises: a child that dies is replaced (after a short pause); SIGTERM or
SIGINT stops every child gracefully (each finishes its requests and background work); when
children die straight after starting five times running, the parent gives up (something is
wrong that a restart will not fix) and exits 1. A child whose parent is killed gets SIGTERM
(Linux), so no process keeps serving on its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

QUICK_DEATH_SECONDS = 10.0  # a child that dies sooner after its start counts as failing to start
QUICK_DEATHS_TO_GIVE_UP = 5
_PR_SET_PDEATHSIG = 1


def listening_socket(host: str, port: int) -> socket.socket:
    """The port every child accepts on, bound once here."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(
        self,
        *,
        processes: int,
        sock: socket.socket,
        child: Callable[[socket.socket], int],
        restart_delay: float = 1.0,
    ) -> None:
        self.processes = processes
        self.sock = sock
        self.child = child
        self.restart_delay = restart_delay
        self.children: dict[int, float] = {}  # pid -> when it started
        self.stopping = False
        self.quick_deaths = 0

    def _fork(self) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: serve until told to stop, then leave without cleanup
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                _die_with_parent()
                if os.getppid() != parent:  # the parent died before prctl took effect
                    os._exit(0)
                code = self.child(self.sock)
            except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
                log.exception("web process failed")
            finally:
                os._exit(code)
        self.children[pid] = time.monotonic()

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            log.info("stopping web processes", extra={"signal": signal.Signals(signum).name})
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for _ in range(self.processes):
                self._fork()
            log.info("web processes started", extra={"processes": self.processes})
            return self._supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.sock.close()

    def _supervise(self) -> int:
        code = 0
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            started = self.children.pop(pid, None)
            if started is None:
                continue
            exit_code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                continue
            quick = time.monotonic() - started < QUICK_DEATH_SECONDS
            self.quick_deaths = self.quick_deaths + 1 if quick else 0
            log.warning("web process exited", extra={"pid": pid, "exit_code": exit_code})
            if self.quick_deaths >= QUICK_DEATHS_TO_GIVE_UP:
                log.error("web processes keep failing at start; giving up")
                self._stop(signal.SIGTERM, None)
                code = 1
                continue
            time.sleep(self.restart_delay)
            if not self.stopping:
                self._fork()
        return code

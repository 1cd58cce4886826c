"""A small TCP proxy for outage tests: put it between a process and its database, then `cut()`
it (every open connection is reset, new ones are closed as soon as they arrive) and
`restore()` it (connections go through again)."""

from __future__ import annotations

import asyncio
import contextlib

CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.host = host
        self.port = 0
        self.is_cut = False
        self.accepted = 0  # connections put through
        self.refused = 0  # connections closed because the proxy was cut
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def __aenter__(self) -> TcpProxy:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def cut(self) -> None:
        """The database goes away: every open connection is reset, new ones are refused."""
        self.is_cut = True
        for writer in list(self._open):
            _abort(writer)
        self._open.clear()

    def restore(self) -> None:
        """The database answers again (for new connections; the cut ones stay cut)."""
        self.is_cut = False

    async def _handle(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self.is_cut:
            self.refused += 1
            _abort(client)
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            self.refused += 1
            _abort(client)
            return
        if self.is_cut:  # cut while connecting
            self.refused += 1
            _abort(client)
            _abort(upstream)
            return
        self.accepted += 1
        self._open.update((client, upstream))
        pipes = [
            asyncio.create_task(self._pipe(client_reader, upstream)),
            asyncio.create_task(self._pipe(upstream_reader, client)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes.difference_update(pipes)
            for writer in (client, upstream):
                self._open.discard(writer)
                _abort(writer)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once (a reset, not a polite FIN): what a peer sees when a network path dies."""
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()

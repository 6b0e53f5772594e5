"""A TCP relay that stands for one physical link (fiber or LTE) in tests and the simulator.

The device's ``fiber`` endpoint points at a :class:`LinkProxy` in front of the service; cutting
the proxy (stop listening, drop every relayed connection) is a real fiber cut as the device sees
it: connections are refused or reset. :meth:`LinkProxy.restore` listens on the same port again.
:attr:`LinkProxy.reset_after` cuts connections mid-stream instead: a connection is reset once
the service has sent that many bytes on it, during the TLS handshake, after the request reached
the service but before its answer did (a lost answer), or later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class LinkProxy:
    """Relay ``host:port`` → ``target_host:target_port`` until :meth:`cut`; runs on the loop."""

    def __init__(
        self, target_host: str, target_port: int, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[None]] = set()
        self.cuts = 0
        self.reset_after: Callable[[], int | None] | None = None
        self.resets = 0

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def up(self) -> bool:
        return self._server is not None

    async def start(self) -> LinkProxy:
        """Listen (on a free port the first time, the same port after a cut)."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._relay, self.host, self.port, reuse_address=True, backlog=1024
            )
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    restore = start

    async def cut(self) -> None:
        """Stop listening and reset every connection relayed so far."""
        if self._server is not None:
            self._server.close()
            self._server = None
            self.cuts += 1
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        """Cut for good and wait for the relays to wind down."""
        await self.cut()
        if self._relays:
            await asyncio.wait(list(self._relays), timeout=2.0)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._relays.add(task)
            task.add_done_callback(self._relays.discard)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        try:
            budget = self.reset_after() if self.reset_after is not None else None
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer, budget, self))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    budget: int | None = None,
    proxy: LinkProxy | None = None,
) -> None:
    """Copy ``reader`` to ``writer``; after ``budget`` bytes reset ``writer``."""
    sent = 0
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if budget is not None and sent + len(data) > budget:
                writer.transport.abort()
                if proxy is not None:
                    proxy.resets += 1
                return
            sent += len(data)
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()

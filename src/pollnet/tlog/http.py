"""The log's public read API (C2SP tlog-tiles), plain HTTP without client certificates.

``GET /checkpoint``, ``GET /tile/<L>/<N>[.p/<W>]``, ``GET /tile/entries/<N>[.p/<W>]``, and
``GET /proof/<index>`` (a tlog-proof receipt for one entry, for devices), from the log's
:class:`~pollnet.tlog.publisher.Publisher` or from a static export (:class:`StaticLog`, a mirror
of ``pollnet log export``). Everything it serves is public by design: entries carry no national
code and no ledger voter hash. Tiles and bundles never change once served (a partial one has its
width in its path), hence ``Cache-Control: immutable``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import uvicorn

from pollnet.link.service import bind
from pollnet.tlog.publisher import LogTampered
from pollnet.tlog.tiles import TileError, parse_tile_path, tile_path

Scope = dict[str, Any]

_TEXT = b"text/plain; charset=utf-8"
_BINARY = b"application/octet-stream"
_IMMUTABLE = b"public, max-age=31536000, immutable"


class LogSource(Protocol):
    """What the public API serves: a :class:`Publisher` is one, :class:`StaticLog` another."""

    def checkpoint(self) -> str | None: ...

    def tile(self, level: int, n: int, width: int) -> bytes: ...

    def entry_bundle(self, n: int, width: int) -> bytes: ...

    def receipt(self, index: int) -> str: ...


class StaticLog:
    """A static export (``pollnet log export``) in ``folder``, served as it is on disk.

    The export writes its checkpoint last, so a checkpoint served never names a missing tile;
    there are no receipts (they need the tree: ask the log itself).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def checkpoint(self) -> str | None:
        try:
            return (self.folder / "checkpoint").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def tile(self, level: int, n: int, width: int) -> bytes:
        return self._read(tile_path(level, n, width))

    def entry_bundle(self, n: int, width: int) -> bytes:
        return self._read(tile_path("entries", n, width))

    def receipt(self, index: int) -> str:
        raise TileError(f"a static export has no receipt for entry {index}")

    def _read(self, path: str) -> bytes:
        try:
            return (self.folder / path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise TileError(path) from None


class PublicApp:
    """The ASGI app over a :class:`LogSource` (a :class:`Publisher` or a :class:`StaticLog`)."""

    def __init__(self, publisher: LogSource) -> None:
        self.publisher = publisher

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        status, ctype, cache, body = self._answer(scope["method"], scope["path"])
        headers = [(b"content-type", ctype), (b"cache-control", cache)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _answer(self, method: str, path: str) -> tuple[int, bytes, bytes, bytes]:
        if method not in ("GET", "HEAD"):
            return 405, _TEXT, b"no-store", b"method not allowed\n"
        pub = self.publisher
        try:
            if path == "/checkpoint":
                note = pub.checkpoint()
                if note is None:
                    return 404, _TEXT, b"no-store", b"no checkpoint yet\n"
                return 200, _TEXT, b"no-cache, max-age=1", note.encode()
            if path.startswith("/proof/") and path[7:].isdigit():
                return 200, _TEXT, b"no-cache", pub.receipt(int(path[7:])).encode()
            if path.startswith("/tile/"):
                level, n, width = parse_tile_path(path[1:])
                if level == "entries":
                    return 200, _BINARY, _IMMUTABLE, pub.entry_bundle(n, width)
                assert isinstance(level, int)
                return 200, _BINARY, _IMMUTABLE, pub.tile(level, n, width)
        except (TileError, LogTampered):
            pass
        return 404, _TEXT, b"no-store", b"not found\n"


@dataclass
class RunningPublic:
    """The public API running on a thread (``url`` without a trailing slash)."""

    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_public(publisher: LogSource, host: str = "127.0.0.1", port: int = 0) -> RunningPublic:
    """Serve ``publisher`` (or a static export) on ``host:port`` (0: a free port) from a thread
    of its own."""
    config = uvicorn.Config(
        PublicApp(publisher),
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
    )
    server = uvicorn.Server(config)
    sock = bind(host, port)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="tlog-public", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the public log API did not start")
        time.sleep(0.01)
    bound = sock.getsockname()[1]
    return RunningPublic(f"http://{host}:{bound}", bound, server, thread)

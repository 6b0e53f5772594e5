"""The service's listener: bounded time and connections, so it cannot be exhausted without a
certificate.

Every TCP connection passes a :class:`Gatekeeper` before any TLS work:

- a connection that sends nothing is held by the kernel, not the service: the listening socket
  defers accept until the first byte (``TCP_DEFER_ACCEPT`` for ``handshake_timeout_s``, see
  :func:`defer_accept`); one the kernel hands over still silent waits outside the handshake
  pool for the handshake time, then is dropped (``reason="silent"``), so idle connections never
  take a place in the pools;
- at most ``max_connections_per_address`` open connections per client address (beyond: reset);
- at most ``max_handshakes`` connections still in their TLS handshake; a new one evicts the
  oldest (an idle connection that sends no certificate loses its place to one that arrives),
  and a handshake lasts at most ``handshake_timeout_s``;
- at most ``max_connections`` connections that passed the handshake; one beyond that is shed
  with a clear refusal: ``503 {"status": "unavailable", "reason": "overloaded"}`` and
  ``retry-after``, then closed, without touching the ledger (the device knows the request was
  not processed and retries or fails over);
- a request's head and body must arrive within ``request_timeout_s`` of its first byte (of the
  handshake's end for the first request), and an idle keep-alive connection is closed after
  ``keep_alive_s``.

At start the open-file limit is raised to its hard limit and checked against what these limits
need (:func:`resolve_limits`). Refusals are counted in ``/metrics``
(``pollnet_listener_refused_total{reason}``, ``pollnet_listener_connections{state}``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import logging
import math
import resource
import select
import socket
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pollnet.errors import ConfigError

FILES_RESERVED = 512
"""Open files kept for everything but client connections: the database, logs, the PKI."""
MAX_DEFAULT_CONNECTIONS = 50_000
log = logging.getLogger("pollnet.link.listener")

OVERLOADED = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 2\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
)
_OVERLOADED_BODY = (
    b'{"status":"unavailable","reason":"overloaded",'
    b'"message":"too many connections; not processed, retry with the same idempotency key"}'
)


@dataclass(frozen=True)
class ListenerLimits:
    """Settings ``[link]`` of the listener; times in seconds.

    ``max_connections`` ``None`` means: as many as the open-file limit allows (see
    :func:`resolve_limits`).
    """

    handshake_timeout_s: float = 5.0
    request_timeout_s: float = 10.0
    keep_alive_s: float = 40.0
    max_handshakes: int = 1024
    max_connections: int | None = None
    max_connections_per_address: int = 256


def raise_open_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit; returns the (new) soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def resolve_limits(limits: ListenerLimits) -> ListenerLimits:
    """``limits`` with ``max_connections`` fixed, after raising the open-file limit.

    A ``ConfigError`` when the limit cannot hold the handshakes and connections asked for.
    """
    files = raise_open_file_limit()
    room = files - FILES_RESERVED - limits.max_handshakes
    wanted = limits.max_connections
    if wanted is None:
        wanted = min(MAX_DEFAULT_CONNECTIONS, room)
    if wanted < 1 or wanted > room:
        raise ConfigError.of(
            "the open-file limit is {files}: [link] max_connections {connections} and"
            " max_handshakes {handshakes} need {needed} (raise it: ulimit -n, LimitNOFILE=)",
            files=files,
            connections=max(wanted, 1),
            handshakes=limits.max_handshakes,
            needed=max(wanted, 1) + limits.max_handshakes + FILES_RESERVED,
        )
    return replace(limits, max_connections=wanted)


def defer_accept(sock: socket.socket, seconds: float) -> bool:
    """Have the kernel hold a connection on the listening ``sock`` until its first byte, for
    up to ``seconds`` (``TCP_DEFER_ACCEPT``, Linux); whether ``sock`` now defers."""
    option = getattr(socket, "TCP_DEFER_ACCEPT", None)
    if option is None:  # pragma: no cover - not Linux
        return False
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, option, max(1, math.ceil(seconds)))
    return defers_accept(sock)


def defers_accept(sock: socket.socket) -> bool:
    """Whether the listening ``sock`` holds silent connections in the kernel."""
    option = getattr(socket, "TCP_DEFER_ACCEPT", None)
    try:
        return option is not None and sock.getsockopt(socket.IPPROTO_TCP, option) > 0
    except OSError:  # pragma: no cover - not a TCP socket
        return False


def _has_bytes(transport: asyncio.BaseTransport) -> bool:
    """Whether the client of ``transport`` has sent anything yet (or closed)."""
    sock = transport.get_extra_info("socket")
    if sock is None:  # pragma: no cover - every TCP transport has one
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


TRIM_AFTER_FAILED = 64
"""Failed handshakes after which the heap's free memory is handed back to the system."""


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:  # pragma: no cover - every Linux has a C library
        return None
    trim: Callable[[int], int] | None = getattr(ctypes.CDLL(name), "malloc_trim", None)
    return trim


def release_free_memory() -> bool:
    """Give the memory the heap holds but no longer uses back to the system (glibc); whether
    it could be asked."""
    trim = _malloc_trim()
    if trim is None:  # pragma: no cover - not glibc
        return False
    trim(0)
    return True


class Gatekeeper:
    """Counts connections per address, in handshake and established; decides who gets in.

    ``deferred``: the listening socket defers accept (:func:`defer_accept`), so a connection
    that arrives with nothing to read has been silent for the whole handshake time.
    """

    def __init__(self, limits: ListenerLimits, *, deferred: bool = False) -> None:
        limits = resolve_limits(limits)
        self.limits = limits
        self.deferred = deferred
        self.max_connections: int = limits.max_connections or 1
        self.by_address: dict[str, int] = {}
        self.handshaking: OrderedDict[int, asyncio.Transport] = OrderedDict()
        self.established = 0
        self.refused: dict[str, int] = {}
        self.trims = 0
        self._failed_since_trim = 0
        self._trim_pending = False
        self._last_failed_at = 0.0
        self._warned_at: dict[str, float] = {}

    def admit(self, address: str) -> bool:
        """Whether a new connection from ``address`` may start its handshake."""
        if self.by_address.get(address, 0) >= self.limits.max_connections_per_address:
            self.refuse("per_address")
            return False
        self.by_address[address] = self.by_address.get(address, 0) + 1
        return True

    def handshake_started(self, transport: asyncio.Transport) -> None:
        """Track a handshake; evicts the oldest one when ``max_handshakes`` are under way."""
        while len(self.handshaking) >= self.limits.max_handshakes:
            _, oldest = self.handshaking.popitem(last=False)
            self.refuse("evicted_handshake")
            oldest.abort()
        self.handshaking[id(transport)] = transport

    def handshake_ended(self, transport: asyncio.BaseTransport) -> None:
        self.handshaking.pop(id(transport), None)

    def handshake_failed(self, loop: asyncio.AbstractEventLoop) -> None:
        """A handshake failed or was cut off. Its TLS state (256 KB of buffer in uvloop) is
        held until the handshake time is up, even when the client reset the connection; the
        heap keeps that memory once freed, so a burst of aborted handshakes would leave the
        service at its peak for ever. When a burst is over and its TLS state gone (the
        handshake time after its last failure), the free memory is given back (glibc's
        ``malloc_trim``: a few milliseconds at most)."""
        self._failed_since_trim += 1
        self._last_failed_at = loop.time()
        if self._trim_pending or self._failed_since_trim < TRIM_AFTER_FAILED:
            return
        self._trim_pending = True
        loop.call_later(self.limits.handshake_timeout_s + 1.0, self._trim, loop)

    def _trim(self, loop: asyncio.AbstractEventLoop) -> None:
        settled_at = self._last_failed_at + self.limits.handshake_timeout_s + 1.0
        if loop.time() < settled_at:  # the burst went on: wait for its end
            loop.call_at(settled_at, self._trim, loop)
            return
        self._trim_pending = False
        self._failed_since_trim = 0
        if release_free_memory():
            self.trims += 1

    def establish(self) -> bool:
        """Whether a connection that passed its handshake is served (else: shed)."""
        if self.established >= self.max_connections:
            self.refuse("overloaded")
            return False
        self.established += 1
        return True

    def release(self, address: str, *, established: bool) -> None:
        """A connection from ``address`` is gone."""
        left = self.by_address.get(address, 1) - 1
        if left > 0:
            self.by_address[address] = left
        else:
            self.by_address.pop(address, None)
        if established:
            self.established -= 1

    def refuse(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        now = time.monotonic()
        if now - self._warned_at.get(reason, -1e9) >= 10.0:  # one line per reason per 10 s
            self._warned_at[reason] = now
            log.warning(
                "listener: connection refused (%s); %d refused so far for this reason",
                reason,
                self.refused[reason],
            )


class GateProtocol(asyncio.Protocol):
    """The listener's protocol for a new TCP connection: admission, TLS, then HTTP.

    uvicorn creates one per accepted connection (it is the ``http`` protocol class, bound to a
    :class:`Gatekeeper`, the TLS context and the HTTP protocol by :func:`gate_factory`). It
    does the TLS handshake itself (``loop.start_tls``, bounded in time) and then hands the TLS
    transport to the HTTP protocol, or sheds the connection.
    """

    def __init__(
        self,
        *,
        gatekeeper: Gatekeeper,
        ssl_context: ssl.SSLContext,
        http: Callable[..., Any],
        **uvicorn_args: Any,
    ) -> None:
        self._keeper = gatekeeper
        self._ssl = ssl_context
        self._http = http
        self._args = uvicorn_args
        self._loop: asyncio.AbstractEventLoop = uvicorn_args.get("_loop") or (
            asyncio.get_event_loop()
        )
        self._address = ""
        self._raw: list[bytes] | None = []  # bytes before the TLS layer took over
        self._early: list[bytes] = []  # application data before the HTTP protocol did
        self._closed = False
        self._target: asyncio.Protocol | None = None
        self._task: asyncio.Task[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._silence: asyncio.TimerHandle | None = None
        self._silent = False
        self._deadline = 0.0

    def connection_made(self, base: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, base)
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if peer else ""
        if not self._keeper.admit(self._address):
            transport.abort()
            self._closed = True
            return
        self._transport = transport
        # Nothing is spent on TLS before the client's first byte: an idle connection costs a
        # socket and this object, and is dropped when its handshake time is up. One the kernel
        # held for that time and hands over still silent waits outside the handshake pool (it
        # neither evicts nor can be evicted by a device that speaks); dropping it at once would
        # only have its sender reopen it at once.
        self._silent = self._keeper.deferred and not _has_bytes(transport)
        if not self._silent:
            self._keeper.handshake_started(transport)
        self._deadline = self._loop.time() + self._keeper.limits.handshake_timeout_s
        self._silence = self._loop.call_later(self._keeper.limits.handshake_timeout_s, self._mute)

    def _mute(self) -> None:
        """No byte within the handshake time: drop the connection."""
        self._silence = None
        if self._task is None and self._transport is not None:
            self._keeper.refuse("silent" if self._silent else "handshake")
            self._transport.abort()

    async def _upgrade(self, transport: asyncio.Transport) -> None:
        established = False
        try:
            try:
                handshake = asyncio.ensure_future(
                    self._loop.start_tls(
                        transport,
                        self,
                        self._ssl,
                        server_side=True,
                        ssl_handshake_timeout=max(0.1, self._deadline - self._loop.time()),
                    )
                )
                await self._hand_over_raw_bytes(transport, handshake)
                tls = await handshake
            except (OSError, ssl.SSLError, TimeoutError, ConnectionError, RuntimeError):
                tls = None
            finally:
                self._keeper.handshake_ended(transport)
            # An evicted or vanished connection can end the handshake without an error (the
            # TLS layer wakes its waiter with no exception when the connection is lost).
            if tls is None or self._closed or tls.is_closing() or transport.is_closing():
                self._keeper.refuse("handshake")
                self._keeper.handshake_failed(self._loop)
                transport.abort()
                return
            established = self._keeper.establish()
            if not established:
                self._shed(tls)
                return
            http = self._http(**self._args)
            http.request_timeout_s = self._keeper.limits.request_timeout_s
            http.on_close = lambda: self._keeper.release(self._address, established=True)
            http.on_slow = lambda: self._keeper.refuse("slow_request")
            established = False  # released by the HTTP protocol from now on
            self._target = http
            tls.set_protocol(http)
            http.connection_made(tls)
            for data in self._early:
                http.data_received(data)
            self._early = []
        finally:
            if self._target is None:
                self._keeper.release(self._address, established=established)

    async def _hand_over_raw_bytes(
        self, transport: asyncio.Transport, handshake: asyncio.Future[Any]
    ) -> None:
        """Give the TLS layer the bytes that came before it (the start of the ClientHello).

        The transport reads as soon as the connection is made (uvloop starts reading after
        ``connection_made`` whatever it asked), so the first bytes reach this protocol. Once
        ``start_tls`` has put its TLS protocol in place (and paused reading), and that
        protocol's ``connection_made`` has run (one more turn of the loop, in which reading is
        also resumed, before the loop polls for I/O again), they are fed to it in order.
        """
        while transport.get_protocol() is self and not handshake.done():
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        raw, self._raw = self._raw or [], None
        tls_protocol = transport.get_protocol()
        for data in raw:
            if transport.is_closing():
                return
            _feed(tls_protocol, data)

    def _shed(self, tls: asyncio.Transport) -> None:
        """Answer the connection's first request ``503 overloaded`` and close it."""
        shed = _Shed(tls, self._loop, self._keeper.limits.request_timeout_s)
        tls.set_protocol(shed)
        for data in self._early:
            shed.data_received(data)

    def data_received(self, data: bytes) -> None:
        if self._raw is not None:
            self._raw.append(data)
            if self._task is None and self._transport is not None:
                if self._silence is not None:
                    self._silence.cancel()
                    self._silence = None
                if self._silent:  # it speaks at last: now it is a handshake like any other
                    self._silent = False
                    self._keeper.handshake_started(self._transport)
                self._task = self._loop.create_task(self._upgrade(self._transport))
        elif self._target is not None:
            self._target.data_received(data)
        else:
            self._early.append(data)

    def eof_received(self) -> bool | None:
        if self._target is not None:
            return self._target.eof_received()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._target is not None:
            self._target.connection_lost(exc)
        elif self._task is None and self._transport is not None:  # gone before its first byte
            if self._silence is not None:
                self._silence.cancel()
                self._silence = None
            self._keeper.handshake_ended(self._transport)
            self._keeper.release(self._address, established=False)
            self._transport = None


def _feed(protocol: asyncio.BaseProtocol, data: bytes) -> None:
    """Deliver ``data`` to ``protocol`` as its transport would (buffered or not)."""
    if hasattr(protocol, "get_buffer"):
        while data:
            buffer = memoryview(protocol.get_buffer(len(data)))
            size = min(len(buffer), len(data))
            buffer[:size] = data[:size]
            protocol.buffer_updated(size)  # type: ignore[attr-defined]
            data = data[size:]
    else:
        protocol.data_received(data)  # type: ignore[attr-defined]


class _Shed(asyncio.Protocol):
    """Waits for the end of a request head (at most ``timeout_s``), answers 503, closes."""

    def __init__(
        self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, timeout_s: float
    ) -> None:
        self._transport = transport
        self._head = b""
        self._timer = loop.call_later(timeout_s, transport.abort)

    def data_received(self, data: bytes) -> None:
        self._head = (self._head + data)[-65536:]
        if b"\r\n\r\n" in self._head and not self._transport.is_closing():
            self._timer.cancel()
            self._transport.write(OVERLOADED % (len(_OVERLOADED_BODY), _OVERLOADED_BODY))
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._timer.cancel()


def gate_factory(
    gatekeeper: Gatekeeper, ssl_context: ssl.SSLContext, http: Callable[..., Any]
) -> Callable[..., GateProtocol]:
    """The protocol class uvicorn is given: a :class:`GateProtocol` bound to its parts."""

    def make(**uvicorn_args: Any) -> GateProtocol:
        return GateProtocol(
            gatekeeper=gatekeeper, ssl_context=ssl_context, http=http, **uvicorn_args
        )

    return make


class ListenerCollector(Collector):
    """``/metrics``: connections by state and refusals by reason."""

    def __init__(self, gatekeeper: Gatekeeper) -> None:
        self._keeper = gatekeeper

    def collect(self) -> Iterator[Metric]:
        keeper = self._keeper
        gauge = GaugeMetricFamily(
            "pollnet_listener_connections",
            "Open connections: in their TLS handshake, or established.",
            labels=["state"],
        )
        gauge.add_metric(["handshake"], len(keeper.handshaking))
        gauge.add_metric(["established"], keeper.established)
        yield gauge
        counter = CounterMetricFamily(
            "pollnet_listener_refused",
            "Connections refused or dropped by the listener, by reason (per_address,"
            " evicted_handshake, handshake, overloaded, silent, slow_request).",
            labels=["reason"],
        )
        for reason, count in sorted(keeper.refused.items()):
            counter.add_metric([reason], float(count))
        yield counter
        trims = CounterMetricFamily(
            "pollnet_listener_memory_trims",
            "Times the heap's free memory was given back after a burst of failed handshakes.",
        )
        trims.add_metric([], float(keeper.trims))
        yield trims


__all__ = [
    "GateProtocol",
    "Gatekeeper",
    "ListenerCollector",
    "ListenerLimits",
    "defer_accept",
    "defers_accept",
    "gate_factory",
    "raise_open_file_limit",
    "release_free_memory",
    "resolve_limits",
]

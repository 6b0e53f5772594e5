"""The election-day service: a plain ASGI app behind mutual TLS, run on uvicorn.

Routes (all behind the client certificate; see ``docs/link.md`` for the wire contract):

- ``POST /v1/checkins``   record a voter once per election (201, 409, 200 conflict, 422, 400...)
- ``GET /v1/checkins/{key}`` what became of the caller's check-in ``key`` (a lost answer)
- ``GET /v1/receipts/{index}`` the transparency log's receipt (C2SP tlog-proof) of log entry
  ``index`` once a signed checkpoint holds it (404 ``not_in_checkpoint`` until then)
- ``POST /v1/heartbeats`` a device's link, queue depth, clock, version, battery
- ``GET /v1/health``      the service is up, knows the caller and can commit (503 when it
  reaches no primary, or the primary lacks its synchronous quorum: devices move on)
- ``GET /metrics``        Prometheus text

The device and station of a request come from its client certificate, which reaches the app in
the ASGI TLS extension (``scope["extensions"]["tls"]["client_cert_chain"]``, PEM) set by
:class:`PeerCertProtocol`, uvicorn's own HTTP protocol plus the peer certificate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from cryptography import x509
from sqlalchemy.engine import Engine
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pollnet.cluster.replication import ReplicationWatch
from pollnet.errors import ConfigError
from pollnet.link.anchor import HeadAnchor
from pollnet.link.checkin import (
    KEY_CHARACTERS,
    MAX_KEY_LENGTH,
    Checkin,
    CheckinPolicy,
    MalformedRequest,
    Refusal,
    parse_checkin,
)
from pollnet.link.heartbeat import HeartbeatBoard, parse_heartbeat
from pollnet.link.ledger import LOOKUP_DIGEST, Answer, Ledger, OutcomeLog
from pollnet.link.listener import (
    Gatekeeper,
    ListenerCollector,
    ListenerLimits,
    defer_accept,
    defers_accept,
    gate_factory,
)
from pollnet.link.metrics import CONTENT_TYPE, LinkMetrics, ReplicationCollector
from pollnet.link.pki import (
    DeviceIdentity,
    RevocationList,
    head_signing_key,
    identity_of,
    read_ledger_key,
    server_ssl_context,
)
from pollnet.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Receipts = Callable[[int], str]
"""``receipt(log index)`` -> the transparency log's tlog-proof receipt of that entry (raises a
``ValueError`` while no signed checkpoint holds it): ``pollnet.tlog.publisher.Publisher``'s."""

MAX_BODY = 16 * 1024
_CONTENT_TYPES = {"application/json": b"application/json"}
_IDENTITY_CACHE = 100_000
log = logging.getLogger("pollnet.link")


@dataclass(frozen=True)
class LinkSettings:
    """Settings ``[link]``: where the PKI is, the election, the check-in policy, the listener."""

    pki_dir: Path
    policy: CheckinPolicy
    heartbeat_seconds: float = 30.0
    host: str = "127.0.0.1"
    port: int = 8443
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    conflict_alert: int = 10
    head_file: Path | None = None
    limits: ListenerLimits = field(default_factory=ListenerLimits)


def link_settings(settings: Settings) -> LinkSettings:
    """The service's settings from ``settings`` (table ``[link]``) with their defaults."""
    section = dict(settings.section("link"))
    try:
        policy = CheckinPolicy(
            election=str(section.get("election", settings.election_date.isoformat())),
            election_date=settings.election_date,
            min_age=int(section.get("min_age", 18)),
            min_fingerprint_score=float(section.get("min_fingerprint_score", 0.6)),
            max_clock_skew_s=float(section.get("max_clock_skew_s", 300.0)),
            opens=_moment(section.get("election_opens")),
            closes=_moment(section.get("election_closes")),
        )
        return LinkSettings(
            pki_dir=Path(section.get("pki_dir", "pollnet-data/pki")),
            policy=policy,
            heartbeat_seconds=float(section.get("heartbeat_seconds", 30.0)),
            host=str(section.get("host", "127.0.0.1")),
            port=int(section.get("port", 8443)),
            valid_from=_moment(section.get("valid_from")),
            valid_until=_moment(section.get("valid_until")),
            conflict_alert=int(section.get("conflict_alert_per_device", 10)),
            head_file=Path(section.get("head_file", "pollnet-data/ledger-head.txt")),
            limits=_limits(section),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError.of("bad [link] settings: {reason}", reason=str(exc)) from None


def _limits(section: Mapping[str, Any]) -> ListenerLimits:
    """The listener's limits from ``[link]`` (see :class:`ListenerLimits` for the keys)."""
    default = ListenerLimits()
    maximum = section.get("max_connections")
    limits = ListenerLimits(
        handshake_timeout_s=float(section.get("handshake_timeout_s", default.handshake_timeout_s)),
        request_timeout_s=float(section.get("request_timeout_s", default.request_timeout_s)),
        keep_alive_s=float(section.get("keep_alive_s", default.keep_alive_s)),
        max_handshakes=int(section.get("max_handshakes", default.max_handshakes)),
        max_connections=int(maximum) if maximum is not None else None,
        max_connections_per_address=int(
            section.get("max_connections_per_address", default.max_connections_per_address)
        ),
    )
    for name in ("handshake_timeout_s", "request_timeout_s", "keep_alive_s"):
        if not getattr(limits, name) > 0:
            raise ValueError(f"{name} must be more than 0")
    for name in ("max_handshakes", "max_connections_per_address"):
        if getattr(limits, name) < 1:
            raise ValueError(f"{name} must be at least 1")
    return limits


def _moment(value: Any) -> dt.datetime | None:
    """A TOML date, datetime or ISO text as an aware UTC datetime (a bare date: midnight UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime) and isinstance(value, dt.date):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        raise ValueError(f"not a date or time: {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class LinkService:
    """The ASGI app. Its ledger writer and heartbeat writer run between lifespan start and stop."""

    def __init__(
        self,
        engine: Engine,
        pki_dir: Path,
        policy: CheckinPolicy,
        *,
        heartbeat_seconds: float = 30.0,
        lang: str = "en",
        conflict_alert: int = 10,
        head_file: Path | None = None,
        outcome_log: OutcomeLog | None = None,
        receipts: Receipts | None = None,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.receipts = receipts
        self.lang = lang
        self.ledger = Ledger(engine, policy.election, lang=lang, outcome_log=outcome_log)
        self.board = HeartbeatBoard(engine, interval_s=heartbeat_seconds)
        self.metrics = LinkMetrics(
            self.board.readiness, conflict_alert=conflict_alert, heartbeat_writer=self.board.health
        )
        self.replication = ReplicationWatch(engine)
        self.metrics.registry.register(ReplicationCollector(self.replication))
        # When each device's last check-in sent online reached the service: its offline period
        # (where a replayed offline acceptance must lie) began after that.
        self._last_online: dict[str, dt.datetime] = {}
        self._hmac_key = read_ledger_key(pki_dir)
        self._revocations = RevocationList(pki_dir)
        self._identities: dict[str, DeviceIdentity | None] = {}
        self._started = False
        self.anchor = (
            HeadAnchor(head_file, head_signing_key(pki_dir), lambda: self.ledger.head)
            if head_file is not None
            else None
        )

    def start(self) -> None:
        """Start the writer threads (the lifespan does this under uvicorn)."""
        if not self._started:
            self.replication.start()
            self.ledger.start()
            self.board.start()
            if self.anchor is not None:
                self.anchor.start()
            self._started = True

    def stop(self) -> None:
        """Write out what is queued and stop the writer threads."""
        if self._started:
            self.replication.stop()
            self.ledger.stop()
            self.board.stop()
            if self.anchor is not None:
                self.anchor.stop()  # signs the final head
            self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        now = _now()
        identity, problem = self._identity(scope, now)
        if identity is None:
            await _json(send, 403, {"status": "refused", "reason": problem, "message": problem})
            return
        route = (scope["method"], scope["path"])
        if route == ("POST", "/v1/checkins"):
            await self._checkin(scope, receive, send, identity, now)
        elif route[0] == "GET" and route[1].startswith(_LOOKUP):
            await self._lookup(send, identity, route[1][len(_LOOKUP) :], now)
        elif route[0] == "GET" and route[1].startswith(_RECEIPT):
            await self._receipt(send, route[1][len(_RECEIPT) :])
        elif route == ("POST", "/v1/heartbeats"):
            await self._heartbeat(scope, receive, send, identity, now)
        elif route == ("GET", "/v1/health"):
            cannot_commit = self.replication.problem
            if cannot_commit is None and not self.ledger.connected and self.replication.enabled:
                cannot_commit = "no_primary"
            await _json(
                send,
                503 if cannot_commit else 200,
                {
                    "status": "unavailable" if cannot_commit else "ok",
                    "reason": cannot_commit,
                    "ledger": self._ledger_health(),
                    "device": identity.serial,
                    "station": identity.station,
                    "server_time": now.isoformat(),
                    "heartbeat_writer": self.board.health().as_json(),
                },
            )
        elif route == ("GET", "/metrics"):
            await _send(send, 200, self.metrics.render(), CONTENT_TYPE)
        elif scope["path"] in ("/v1/checkins", "/v1/heartbeats", "/v1/health", "/metrics"):
            await _json(send, 405, {"status": "refused", "reason": "method_not_allowed"})
        else:
            await _json(send, 404, {"status": "refused", "reason": "not_found"})

    def _ledger_health(self) -> dict[str, Any]:
        """The ledger's database as ``/v1/health`` shows it (the primary and the quorum)."""
        status = self.replication.status
        return {
            "writer_connected": self.ledger.connected,
            "primary": status.node if status is not None and self.replication.reachable else None,
            "quorum_met": None if status is None else status.quorum_met,
            "quorum_required": None if status is None else status.required,
        }

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await asyncio.to_thread(self.start)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _identity(self, scope: Scope, now: dt.datetime) -> tuple[DeviceIdentity | None, str]:
        chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
        if not chain:
            return None, "no_client_certificate"
        pem = chain[0]
        if pem not in self._identities:
            if len(self._identities) >= _IDENTITY_CACHE:
                self._identities.clear()
            try:
                self._identities[pem] = identity_of(x509.load_pem_x509_certificate(pem.encode()))
            except ValueError:
                self._identities[pem] = None
        identity = self._identities[pem]
        if identity is None:
            return None, "not_a_device_certificate"
        if self._revocations.is_revoked(identity.cert_serial, time.monotonic()):
            return None, "revoked"
        if identity.not_after < now:
            return None, "expired"
        return identity, ""

    async def _checkin(
        self, scope: Scope, receive: Receive, send: Send, identity: DeviceIdentity, now: dt.datetime
    ) -> None:
        started = time.perf_counter()
        body, answer = await self._read_json(scope, receive)
        if answer is None:
            assert body is not None
            serial = identity.serial
            try:
                checkin = parse_checkin(
                    body, identity, self.policy, self._hmac_key, now, self._last_online.get(serial)
                )
            except MalformedRequest as exc:
                answer = _malformed(str(exc))
            else:
                answer = await self.ledger.record_async(checkin)
                if checkin.provisional_at is None and answer.status_code not in (400, 503):
                    self._last_online[serial] = now
        self.metrics.observe_checkin(
            answer.status_code,
            answer.body,
            time.perf_counter() - started,
            device=identity.serial,
            replayed=answer.replayed,
        )
        await _send(send, answer.status_code, answer.body)

    async def _lookup(
        self, send: Send, identity: DeviceIdentity, key: str, now: dt.datetime
    ) -> None:
        """Answer what became of the caller's check-in ``key``: its stored answer, or 404.

        The question goes through the ledger's writer like a check-in: a key it never recorded
        is recorded now as ``not_recorded``, so the lost request, should it still arrive, gets
        that answer and is never counted. The key space is the device's own (another device's,
        or another station's, check-ins are not visible).
        """
        if not 0 < len(key) <= MAX_KEY_LENGTH or not KEY_CHARACTERS.issuperset(key):
            answer = _malformed(
                f"idempotency_key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
            )
            await _send(send, answer.status_code, answer.body)
            return
        answer = await self.ledger.record_async(_lookup(identity, key, now))
        body = answer.json()
        if answer.status_code == 422 and body.get("reason") == NOT_RECORDED.reason:
            found: dict[str, Any] = {
                "status": "not_recorded",
                "idempotency_key": key,
                "message": body.get("message"),
            }
            await _json(send, 404, found)
            return
        found = {
            "status": "found",
            "idempotency_key": key,
            "status_code": answer.status_code,
            "answer": body,
        }
        await _json(send, 200, found)

    async def _receipt(self, send: Send, index_text: str) -> None:
        """Answer the log's receipt of entry ``index_text`` (public data: any device may ask)."""
        if not index_text.isdigit() or len(index_text) > 18:
            await _json(send, 400, {"status": "refused", "reason": "malformed"})
            return
        if self.receipts is None:
            await _json(send, 404, {"status": "refused", "reason": "no_transparency_log"})
            return
        index = int(index_text)
        try:  # it reads the entry from the database: not on the event loop
            receipt = await asyncio.to_thread(self.receipts, index)
        except ValueError:
            await _json(send, 404, {"status": "pending", "reason": "not_in_checkpoint"})
            return
        await _json(send, 200, {"status": "ok", "log_index": index, "receipt": receipt})

    async def _heartbeat(
        self, scope: Scope, receive: Receive, send: Send, identity: DeviceIdentity, now: dt.datetime
    ) -> None:
        body, answer = await self._read_json(scope, receive)
        if answer is None:
            assert body is not None
            try:
                beat = parse_heartbeat(body, identity, now)
            except MalformedRequest as exc:
                answer = _malformed(str(exc))
            else:
                self.metrics.observe_heartbeat(beat.link)
                state = self.board.record(beat)
                answer = Answer(200, orjson.dumps({"server_time": now.isoformat(), "state": state}))
        await _send(send, answer.status_code, answer.body)

    async def _read_json(
        self, scope: Scope, receive: Receive
    ) -> tuple[Mapping[str, Any] | None, Answer | None]:
        """The JSON object of the request body, or the answer that refuses it (415/413/400)."""
        media = declared = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                media = value
            elif name == b"content-length":
                declared = value
        if media != b"application/json" and (
            media is None or media.split(b";")[0].strip().lower() != b"application/json"
        ):
            return None, _error(415, "unsupported_media_type", "the body must be application/json")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            return None, _error(413, "too_large", f"the body must be at most {MAX_BODY} bytes")
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None, _malformed("the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return None, _error(413, "too_large", f"the body must be at most {MAX_BODY} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        try:
            value = orjson.loads(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        except orjson.JSONDecodeError:
            return None, _malformed("the body is not valid JSON")
        if not isinstance(value, dict):
            return None, _malformed("the body must be a JSON object")
        return value, None


class PeerCertProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that hands the client certificate to the app.

    Once the TLS handshake is done it sets the ASGI TLS extension on every request of the
    connection: ``scope["extensions"]["tls"] = {"client_cert_chain": [PEM], ...}`` (one dict per
    connection, built once). It also sends each response as one TLS record: uvicorn writes the
    head and the body separately, and on TLS every write is a record and a ``send`` of its own.
    A request's head and body must arrive within ``request_timeout_s`` of its first byte (of
    the connection for the first request), or the connection is closed; ``on_close`` is called
    once when the connection is gone (the listener counts connections; see ``listener``).
    """

    request_timeout_s: float | None = None
    on_close: Callable[[], None] | None = None
    on_slow: Callable[[], None] | None = None
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self._extensions: dict[str, dict[object, object]] = {
            "tls": {
                "server_cert": None,
                "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
                "client_cert_name": None,
                "client_cert_error": None,
                "tls_version": None,
                "cipher_suite": None,
            }
        }
        self.transport = _CoalescingTransport(transport, self.loop)  # type: ignore[assignment]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = self._extensions
        self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        if self.on_close is not None:
            on_close, self.on_close = self.on_close, None
            on_close()

    def _arm(self) -> None:
        if self._deadline is None and self.request_timeout_s is not None:
            self._deadline = self.loop.call_later(self.request_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        """The request's head or body did not arrive in time: drop the connection."""
        self._deadline = None
        if self.on_slow is not None:
            self.on_slow()
        self.transport.abort()


class _CoalescingTransport:
    """A transport whose writes within one turn of the event loop go out as one write."""

    __slots__ = ("_loop", "_parts", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._parts:
            self._loop.call_soon(self._flush)
        self._parts.append(data)

    def _flush(self) -> None:
        parts, self._parts = self._parts, []
        if parts and not self._transport.is_closing():
            self._transport.write(parts[0] if len(parts) == 1 else b"".join(parts))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


@dataclass
class RunningService:
    """A service started with :func:`start_in_thread`: its URL, and how to stop it."""

    url: str
    port: int
    service: LinkService
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def build_server(
    app: LinkService,
    ssl_context: ssl.SSLContext,
    *,
    log_level: str = "warning",
    limits: ListenerLimits | None = None,
    listening: socket.socket | None = None,
) -> uvicorn.Server:
    """A uvicorn server for ``app`` with mutual TLS, httptools and uvloop (when installed).

    TLS is done by the listener's gate (:mod:`pollnet.link.listener`), which bounds handshake
    and request time and the number of connections per address and in total (``limits``; the
    open-file limit is raised and checked here). ``listening`` is the socket it will serve
    (:func:`bind`): when that defers accept, silent connections are dropped on arrival.
    """
    limits = limits or ListenerLimits()
    gatekeeper = Gatekeeper(limits, deferred=listening is not None and defers_accept(listening))
    app.metrics.registry.register(ListenerCollector(gatekeeper))
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        loop = "asyncio"
    config = uvicorn.Config(
        app,
        http=gate_factory(gatekeeper, ssl_context, PeerCertProtocol),  # type: ignore[arg-type]
        loop=loop,
        lifespan="on",
        access_log=False,
        log_level=log_level,
        timeout_keep_alive=max(1, round(limits.keep_alive_s)),
        backlog=4096,
        # Devices talk to the service directly: no proxy headers to trust, no extra headers.
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config)


def bind(
    host: str, port: int, *, silent_s: float = ListenerLimits.handshake_timeout_s
) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one) on which the kernel holds
    a connection that sends nothing for up to ``silent_s`` seconds (:func:`defer_accept`)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    defer_accept(sock, silent_s)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def serve(
    engine: Engine,
    config: LinkSettings,
    *,
    lang: str = "en",
    ready: Callable[[str], None] | None = None,
    outcome_log: OutcomeLog | None = None,
    receipts: Receipts | None = None,
) -> None:
    """Run the service in the foreground until interrupted; ``ready`` gets the URL once bound.

    With ``outcome_log`` every outcome also goes to the transparency log (``pollnet.tlog``),
    whose receipts ``receipts`` gives to devices.
    """
    app = LinkService(
        engine,
        config.pki_dir,
        config.policy,
        heartbeat_seconds=config.heartbeat_seconds,
        lang=lang,
        conflict_alert=config.conflict_alert,
        head_file=config.head_file,
        outcome_log=outcome_log,
        receipts=receipts,
    )
    sock = bind(config.host, config.port, silent_s=config.limits.handshake_timeout_s)
    server = build_server(
        app, server_ssl_context(config.pki_dir), limits=config.limits, listening=sock
    )
    _quiet_garbage_collector()
    if ready is not None:
        ready(f"https://{config.host}:{sock.getsockname()[1]}")
    server.run(sockets=[sock])


GC_THRESHOLDS = (50_000, 50, 1000)
"""The collector's thresholds in the service process (Python's default is 700, 10, 10)."""


def _quiet_garbage_collector() -> None:
    """Keep the garbage collector from pausing every connection at once.

    The check-ins and heartbeats of a busy day allocate fast, and with the default thresholds
    the collector kept walking every object the service holds: on PostgreSQL with 20,000
    devices' heartbeats that froze all 64 connections for 80 ms or more about once a second
    (p99 111-142 ms). What exists once the service is up is frozen (never scanned again) and
    the young generation is collected every 50,000 allocations instead of 700: p99 79 ms (see
    ``docs/performance.md``). Reference cycles are still collected, only less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def start_in_thread(
    engine: Engine,
    pki_dir: Path,
    policy: CheckinPolicy,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    heartbeat_seconds: float = 30.0,
    conflict_alert: int = 10,
    head_file: Path | None = None,
    limits: ListenerLimits | None = None,
    outcome_log: OutcomeLog | None = None,
    receipts: Receipts | None = None,
) -> RunningService:
    """Start the service on a thread (tests, the simulator); returns once it accepts requests."""
    app = LinkService(
        engine,
        pki_dir,
        policy,
        heartbeat_seconds=heartbeat_seconds,
        conflict_alert=conflict_alert,
        head_file=head_file,
        outcome_log=outcome_log,
        receipts=receipts,
    )
    limits = limits or ListenerLimits()
    sock = bind(host, port, silent_s=limits.handshake_timeout_s)
    server = build_server(app, server_ssl_context(pki_dir), limits=limits, listening=sock)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="link-service", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the link service did not start")
        time.sleep(0.01)
    bound = sock.getsockname()[1]
    return RunningService(f"https://{host}:{bound}", bound, app, server, thread)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_LOOKUP = "/v1/checkins/"
_RECEIPT = "/v1/receipts/"
NOT_RECORDED = Refusal(
    "not_recorded", "no check-in was recorded with this idempotency key; none ever will be"
)


def _lookup(identity: DeviceIdentity, key: str, now: dt.datetime) -> Checkin:
    """The ledger entry that asks for ``key``'s answer and closes it if there is none."""
    return Checkin(
        device=identity.serial,
        station=identity.station,
        idempotency_key=key,
        voter_hash=None,
        device_time=now,
        provisional_at=None,
        card_read=False,
        fingerprint_score=0.0,
        refusal=NOT_RECORDED,
        request_digest=LOOKUP_DIGEST,
    )


def _malformed(message: str) -> Answer:
    return _error(400, "malformed", message)


def _error(status_code: int, reason: str, message: str) -> Answer:
    body = {"status": "refused", "reason": reason, "message": message}
    return Answer(status_code, orjson.dumps(body))


async def _json(send: Send, status_code: int, body: Mapping[str, Any]) -> None:
    await _send(send, status_code, orjson.dumps(body))


async def _send(
    send: Send, status_code: int, body: bytes, content_type: str = "application/json"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status_code,
            "headers": [
                (b"content-type", _CONTENT_TYPES.get(content_type) or content_type.encode()),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


__all__ = [
    "LinkService",
    "LinkSettings",
    "PeerCertProtocol",
    "RunningService",
    "build_server",
    "link_settings",
    "serve",
    "start_in_thread",
]

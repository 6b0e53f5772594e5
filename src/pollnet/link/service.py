"""The election-day service: a plain ASGI app behind mutual TLS, run on uvicorn.

Routes (all behind the client certificate; see ``docs/link.md`` for the wire contract):

- ``POST /v1/checkins``   record a voter once per election (201, 409, 200 conflict, 422, 400...)
- ``POST /v1/heartbeats`` a device's link, queue depth, clock, version, battery
- ``GET /v1/health``      the service is up and knows the caller
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from cryptography import x509
from sqlalchemy.engine import Engine
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pollnet.errors import ConfigError
from pollnet.link.checkin import CheckinPolicy, MalformedRequest, parse_checkin
from pollnet.link.heartbeat import HeartbeatBoard, parse_heartbeat
from pollnet.link.ledger import Answer, Ledger
from pollnet.link.metrics import CONTENT_TYPE, LinkMetrics
from pollnet.link.pki import (
    DeviceIdentity,
    RevocationList,
    identity_of,
    read_ledger_key,
    server_ssl_context,
)
from pollnet.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

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
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError.of("bad [link] settings: {reason}", reason=str(exc)) from None


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
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.lang = lang
        self.ledger = Ledger(engine, policy.election, lang=lang)
        self.board = HeartbeatBoard(engine, interval_s=heartbeat_seconds)
        self.metrics = LinkMetrics(
            self.board.readiness, conflict_alert=conflict_alert, heartbeat_writer=self.board.health
        )
        # When each device's last check-in sent online reached the service: its offline period
        # (where a replayed offline acceptance must lie) began after that.
        self._last_online: dict[str, dt.datetime] = {}
        self._hmac_key = read_ledger_key(pki_dir)
        self._revocations = RevocationList(pki_dir)
        self._identities: dict[str, DeviceIdentity | None] = {}
        self._started = False

    def start(self) -> None:
        """Start the writer threads (the lifespan does this under uvicorn)."""
        if not self._started:
            self.ledger.start()
            self.board.start()
            self._started = True

    def stop(self) -> None:
        """Write out what is queued and stop the writer threads."""
        if self._started:
            self.ledger.stop()
            self.board.stop()
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
        elif route == ("POST", "/v1/heartbeats"):
            await self._heartbeat(scope, receive, send, identity, now)
        elif route == ("GET", "/v1/health"):
            await _json(
                send,
                200,
                {
                    "status": "ok",
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
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
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
    app: LinkService, ssl_context: ssl.SSLContext, *, log_level: str = "warning"
) -> uvicorn.Server:
    """A uvicorn server for ``app`` with mutual TLS, httptools and uvloop (when installed)."""
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        loop = "asyncio"
    config = uvicorn.Config(
        app,
        http=PeerCertProtocol,
        loop=loop,
        lifespan="on",
        ssl_context_factory=lambda _config, _default: ssl_context,
        access_log=False,
        log_level=log_level,
        timeout_keep_alive=75,
        backlog=4096,
        # Devices talk to the service directly: no proxy headers to trust, no extra headers.
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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
) -> None:
    """Run the service in the foreground until interrupted; ``ready`` gets the URL once bound."""
    app = LinkService(
        engine,
        config.pki_dir,
        config.policy,
        heartbeat_seconds=config.heartbeat_seconds,
        lang=lang,
        conflict_alert=config.conflict_alert,
    )
    server = build_server(app, server_ssl_context(config.pki_dir))
    sock = bind(config.host, config.port)
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
) -> RunningService:
    """Start the service on a thread (tests, the simulator); returns once it accepts requests."""
    app = LinkService(
        engine, pki_dir, policy, heartbeat_seconds=heartbeat_seconds, conflict_alert=conflict_alert
    )
    server = build_server(app, server_ssl_context(pki_dir))
    sock = bind(host, port)
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

"""The device client: check voters in over mutual TLS, fail over fiber → LTE, queue when offline.

A :class:`DeviceClient` speaks for one identity-verification device (its bundle: key,
certificate, the election's CA, the service's URL over each link). Every check-in is written to
the device's :class:`~pollnet.link.queue.DurableQueue` before it is sent. A request that fails on
the fiber link is retried at once on LTE with the same idempotency key (a link may name several
services on the same ledger: each is tried in turn, then the next link's); a failed link is tried
again after ``retry_s`` seconds, so the client returns to fiber once it recovers. When no link
answers, the offline policy decides:

- ``refuse``: the operator is told the link is down; the check-in is closed, never sent;
- ``provisional``: after a local check (valid national code, verified, not already checked in on
  this device) the voter is accepted provisionally; the check-in is replayed, in order and with
  its idempotency key, once a link is back. If the voter was recorded elsewhere meanwhile the
  service answers ``conflict``; the answer is stored and surfaced, nothing is dropped.

A request that may have reached the service without its answer reaching the device (a link cut
after the request was written, a read timeout while the ledger stalled, an answer 5xx, a device
killed mid-request) is **unknown**: the voter is not turned away, and not admitted either
unless the policy is ``provisional`` and the device's own checks pass (then the voter is
admitted provisionally); the operator is told. As soon as any link answers, the client asks
``GET /v1/checkins/{key}``: the service hands back the stored answer, or answers that it never
recorded the key and never will (it records that, so the lost request cannot land later). The
result is surfaced as a ``resolved`` event: the voter was recorded (admit them), or was not
(check them in again). Nothing is ever sent as a new vote behind the operator's back; only a
voter already admitted provisionally whose lost request was not recorded (or was refused) is
sent again, as a provisional check-in under a new key, so that the service records them or a
conflict.

Logs name a check-in by its idempotency key, never by the voter's national code.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import ssl
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from pollnet import __version__
from pollnet.errors import UserError
from pollnet.link.national_code import normalise_national_code
from pollnet.link.pki import device_ssl_context, queue_key
from pollnet.link.queue import DurableQueue, QueuedCheckin, outcome_of
from pollnet.tlog.note import shed_signatures

LINKS = ("fiber", "lte")
POLICIES = ("refuse", "provisional")
log = logging.getLogger("pollnet.link.device")

Clock = Callable[[], dt.datetime]
EventSink = Callable[[str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class Bundle:
    """A device bundle folder: ``device.key``, ``device.crt``, ``ca.pem`` and ``bundle.toml``.

    ``endpoints`` maps a link name to the service's URL over it, fiber first; or to several
    URLs (several services on one ledger), tried in their order before the next link.
    """

    folder: Path
    serial: str
    station: str
    endpoints: Mapping[str, str | tuple[str, ...]]
    heartbeat_seconds: float

    @classmethod
    def load(cls, folder: Path) -> Bundle:
        """Read the bundle in ``folder``; a missing file or field is a :class:`UserError`."""
        folder = Path(folder)
        for name in ("device.key", "device.crt", "ca.pem", "bundle.toml"):
            if not (folder / name).is_file():
                raise UserError.of(
                    "not a device bundle: {name} is missing", file=str(folder), name=name
                )
        try:
            data = tomllib.loads((folder / "bundle.toml").read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise UserError.of(
                "not a valid TOML file: {reason}", file=str(folder / "bundle.toml"), reason=str(exc)
            ) from None
        raw = data.get("endpoints", {})
        endpoints = {link: _urls(raw[link]) for link in LINKS if raw.get(link)}
        endpoints.update({k: _urls(v) for k, v in raw.items() if k not in endpoints and v})
        if "serial" not in data or "station" not in data:
            raise UserError.of(
                "bundle.toml needs serial and station",
                file=str(folder / "bundle.toml"),
            )
        return cls(
            folder,
            str(data["serial"]),
            str(data["station"]),
            endpoints,
            float(data.get("heartbeat_seconds", 30)),
        )


def _urls(value: Any) -> str | tuple[str, ...]:
    """An endpoint of ``bundle.toml``: one URL, or a list of URLs (kept in order)."""
    if isinstance(value, list):
        return tuple(str(v) for v in value if v)
    return str(value)


@dataclass(frozen=True)
class Voter:
    """What the device read for one voter: national code, birth date, card and fingerprint.

    ``birth_date`` is Jalali (``1370/01/15``) or ISO (``1991-04-04``); ``fingerprint_score`` is
    the match score from 0 to 1.
    """

    national_code: str
    birth_date: str
    card_read: bool
    fingerprint_score: float

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Voter:
        """A voter from a JSON object; ``ValueError`` names the field that is wrong."""
        fields = (
            ("national_code", str),
            ("birth_date", str),
            ("card_read", bool),
            ("fingerprint_score", (int, float)),
        )
        for name, kind in fields:
            value = data.get(name)
            if not isinstance(value, kind) or (name == "fingerprint_score" and value is True):
                raise ValueError(name)
        return cls(
            data["national_code"],
            data["birth_date"],
            data["card_read"],
            float(data["fingerprint_score"]),
        )


@dataclass(frozen=True)
class CheckinResult:
    """What became of one check-in.

    ``outcome``: ``accepted``, ``provisional`` (accepted offline, to be replayed), ``conflict``
    (a replayed provisional check-in whose voter was recorded elsewhere), ``duplicate`` or another
    refusal reason of the service, ``link_down`` (offline, policy refuse), ``local_duplicate``,
    ``unknown`` (the answer was lost: wait) or ``not_recorded`` (an unknown one the service never
    recorded: check the voter in again).
    ``link`` is the link the answer came over (``None`` when offline).
    """

    idempotency_key: str
    outcome: str
    status_code: int | None
    answer: Mapping[str, Any] | None
    link: str | None
    latency_s: float
    provisional: bool = False
    replayed: bool = False
    resolved: bool = False
    """An answer found for an ``unknown`` check-in (``outcome`` is then the service's verdict,
    or ``not_recorded``)."""

    @property
    def admitted(self) -> bool:
        """Whether the voter may vote now (accepted online or provisionally)."""
        return self.outcome in ("accepted", "provisional")


@dataclass(frozen=True)
class Receipt:
    """The transparency log's receipt (C2SP tlog-proof) of one of the device's outcomes.

    ``status``: ``ok`` (``text`` is the receipt), ``pending`` (no signed checkpoint holds the
    entry yet: ask again a few seconds later), ``no_log`` (the service keeps no log) or
    ``unreachable`` (no link answered).
    """

    log_index: int
    status: str
    text: str | None = None

    def for_qr(self) -> str:
        """The receipt without its checkpoint's post-quantum signature lines (a QR code holds
        under 3 KB; an ML-DSA-44 line alone is 3.3 KB): it verifies against a policy of the
        log's Ed25519 key; the kept file has every signature."""
        if self.text is None:
            raise ValueError("no receipt")
        head, _, note_text = self.text.partition("\n\n")
        return head + "\n\n" + shed_signatures(note_text)


RECEIPTS_DIR = "receipts"
"""The folder of the bundle where a device keeps its receipts, ``<log index>.tlog-proof``."""


def logged_indices(items: Iterable[QueuedCheckin]) -> list[int]:
    """The log indices of the accepted check-ins among ``items`` (their answers carry them)."""
    return [
        int(item.answer["log_index"])
        for item in items
        if item.outcome == "accepted" and item.answer and "log_index" in item.answer
    ]


def keep_receipt(bundle: Bundle, receipt: Receipt) -> Path:
    """Write a fetched receipt into the bundle's receipts folder; returns the file."""
    if receipt.text is None:
        raise ValueError("only a fetched receipt is kept")
    folder = bundle.folder / RECEIPTS_DIR
    folder.mkdir(exist_ok=True)
    path = folder / f"{receipt.log_index}.tlog-proof"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(receipt.text, encoding="utf-8")
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class HeartbeatResult:
    """The service's answer to a heartbeat; ``clock_skew_s`` is device minus service clock."""

    link: str
    state: str
    server_time: dt.datetime
    clock_skew_s: float
    queue_depth: int
    round_trip_s: float


@dataclass
class _Link:
    name: str
    url: str
    client: httpx.AsyncClient
    retry_at: float = 0.0
    failures: int = 0


@dataclass
class _Sent:
    link: str
    status_code: int
    body: dict[str, Any]


@dataclass
class _Lost:
    """No link answered; ``maybe_delivered``: a request may have reached the service."""

    maybe_delivered: bool


# Failures before any byte of the request can have left: the service cannot have seen it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Answers that say the request was not processed (the listener shed the connection).
_SHED_REASONS = ("overloaded",)


class DeviceClient:
    """One device's client; use ``async with DeviceClient(bundle) as client: ...``.

    Parameters
    ----------
    bundle
        The device bundle (folder or :class:`Bundle`).
    policy
        What to do when no link answers: ``refuse`` or ``provisional``.
    queue
        The durable queue, or its SQLite path (default ``<bundle>/queue.db``).
    timeout_s, connect_timeout_s
        Seconds to wait for an answer, and for a connection, per request and link.
    retry_s
        Seconds before a link that failed is tried again.
    clock
        The device's clock (aware datetimes); the simulator skews it.
    battery
        Reads the battery level in percent (``None``: no battery / unknown).
    on_event
        Called with ``("link", {"from", "to"})`` when the link in use changes, ``("replayed",
        {"result"})`` for each queued check-in sent late, ``("heartbeat", {"result"})`` for each
        heartbeat answered, and ``("conflict", {...})`` (the service's answer) when a replay
        comes back as a conflict, and ``("resolved", {"result"})`` when the fate of an
        ``unknown`` check-in becomes known.
    """

    def __init__(
        self,
        bundle: Bundle | Path,
        *,
        policy: str = "refuse",
        queue: DurableQueue | Path | None = None,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
        retry_s: float = 5.0,
        min_fingerprint_score: float = 0.6,
        software_version: str = __version__,
        clock: Clock | None = None,
        battery: Callable[[], int | None] | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        if policy not in POLICIES:
            raise UserError.of(
                "offline policy must be refuse or provisional, not {value}", value=policy
            )
        self.bundle = bundle if isinstance(bundle, Bundle) else Bundle.load(bundle)
        if not self.bundle.endpoints:
            raise UserError.of(
                "the device bundle names no endpoint (fiber or lte URL)",
                file=str(self.bundle.folder / "bundle.toml"),
            )
        self.policy = policy
        self._own_queue = not isinstance(queue, DurableQueue)
        self.queue = (
            queue
            if isinstance(queue, DurableQueue)
            else DurableQueue(
                queue or self.bundle.folder / "queue.db", queue_key(self.bundle.folder)
            )
        )
        self.timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self.retry_s = retry_s
        self.min_fingerprint_score = min_fingerprint_score
        self.software_version = software_version
        self._clock = clock or _utc_now
        self._battery = battery or (lambda: None)
        self._on_event = on_event
        self._links: list[_Link] = []
        self._lock = asyncio.Lock()
        self.link: str | None = None
        self.clock_skew_s: float | None = None
        self.failovers = 0
        self.heartbeats = 0

    async def __aenter__(self) -> DeviceClient:
        self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def open(self) -> None:
        """Open one HTTP client per link (all with the device certificate)."""
        if self._links:
            return
        context = device_ssl_context(self.bundle.folder)
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=2)
        for name, urls in self.bundle.endpoints.items():
            for url in (urls,) if isinstance(urls, str) else urls:
                client = httpx.AsyncClient(
                    base_url=url,
                    verify=context,
                    timeout=self.timeout,
                    limits=limits,
                    trust_env=False,
                )
                self._links.append(_Link(name, url, client))

    async def aclose(self) -> None:
        for link in self._links:
            await link.client.aclose()
        self._links = []
        if self._own_queue:
            self.queue.close()

    @property
    def links(self) -> tuple[str, ...]:
        """The configured links, most preferred first."""
        return tuple(self.bundle.endpoints)

    async def check_in(self, voter: Voter) -> CheckinResult:
        """Check ``voter`` in: queue it durably, send it after any backlog, or apply the policy."""
        started = time.perf_counter()
        code = normalise_national_code(voter.national_code)
        payload = {
            "national_code": voter.national_code,
            "birth_date": voter.birth_date,
            "card_read": voter.card_read,
            "fingerprint_score": voter.fingerprint_score,
            "device_time": self._clock().isoformat(),
            "provisional_at": None,
        }
        async with self._lock:
            item = self.queue.put(payload, voter_hash=self.queue.voter_hash(code) if code else None)
            backlog = self.queue.depth() > 1
            caught_up = await self._replay_locked(before_seq=item.seq) if backlog else []
            if caught_up is not None:
                result = await self._send(item, started, replayed=False)
                if result is not None and result.outcome == "unknown":
                    return self._unknown(result, code, voter)
                if result is not None:
                    return result
            return self._offline(item, code, voter, started)

    async def receipt(self, log_index: int) -> Receipt:
        """Fetch the log's receipt of entry ``log_index`` (an accepted answer's ``log_index``)."""
        sent = await self._request("GET", f"/v1/receipts/{log_index}", None)
        if isinstance(sent, _Lost):
            return Receipt(log_index, "unreachable")
        text = sent.body.get("receipt")
        if sent.status_code == 200 and isinstance(text, str):
            return Receipt(log_index, "ok", text)
        if sent.body.get("reason") == "not_in_checkpoint":
            return Receipt(log_index, "pending")
        return Receipt(log_index, "no_log")

    async def replay(self) -> list[CheckinResult]:
        """Send every queued check-in, oldest first, until the queue is empty or no link answers."""
        async with self._lock:
            return await self._replay_locked() or []

    async def heartbeat(self) -> HeartbeatResult | None:
        """Report link, queue depth, clock, version and battery; ``None`` when no link answers."""
        depth = self.queue.depth()
        sent_at: dict[str, dt.datetime] = {}
        started: list[float] = []

        def body(link: str) -> dict[str, Any]:  # called once per link tried: the last one counts
            started[:] = [time.perf_counter()]
            sent_at["t"] = self._clock()
            return {
                "link": link if link in LINKS else "lte",
                "queue_depth": depth,
                "device_time": sent_at["t"].isoformat(),
                "software_version": self.software_version,
                "battery": self._battery(),
            }

        sent = await self._post("/v1/heartbeats", body)
        if not isinstance(sent, _Sent) or sent.status_code != 200:
            return None
        round_trip = time.perf_counter() - started[0]
        try:
            server_time = dt.datetime.fromisoformat(sent.body["server_time"])
        except (KeyError, TypeError, ValueError):
            return None
        self.heartbeats += 1
        middle = sent_at["t"] + dt.timedelta(seconds=round_trip / 2)
        self.clock_skew_s = (middle - server_time).total_seconds()
        beat = HeartbeatResult(
            sent.link,
            str(sent.body.get("state", "")),
            server_time,
            self.clock_skew_s,
            depth,
            round_trip,
        )
        self._emit("heartbeat", {"result": beat})
        return beat

    async def run(self, stop: asyncio.Event) -> None:
        """Heartbeat every ``heartbeat_seconds`` and replay the backlog until ``stop`` is set.

        While check-ins wait offline, links are retried every ``retry_s`` seconds instead.
        """
        while not stop.is_set():
            try:
                await self.heartbeat()
                if self.queue.depth() and self.link is not None:
                    await self.replay()
            except Exception:  # a device keeps reporting whatever one round did
                log.exception("device %s: heartbeat round failed", self.bundle.serial)
            wait = self.bundle.heartbeat_seconds
            if self.queue.depth():
                wait = min(wait, self.retry_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    def conflicts(self) -> list[QueuedCheckin]:
        """Provisional check-ins whose voter had been recorded elsewhere (kept, for the office)."""
        return self.queue.conflicts()

    async def _replay_locked(self, before_seq: int | None = None) -> list[CheckinResult] | None:
        """Resolve unknown items, then send pending items older than ``before_seq``; ``None``
        when a link failed midway."""
        results = []
        for item in self.queue.unknown():
            resolved = await self._resolve(item)
            if resolved is None:
                return None
            results.append(resolved)
        for item in self.queue.pending():
            if before_seq is not None and item.seq >= before_seq:
                break
            result = await self._send(item, time.perf_counter(), replayed=True)
            if result is None:
                return None
            results.append(result)
        return results

    async def _resolve(self, item: QueuedCheckin) -> CheckinResult | None:
        """Ask the service what became of an unknown check-in; ``None`` when no link answers."""
        started = time.perf_counter()
        key = item.idempotency_key
        sent = await self._request("GET", f"/v1/checkins/{quote(key, safe='')}", None)
        if not isinstance(sent, _Sent):
            return None
        found = sent.status_code == 200 and isinstance(sent.body.get("answer"), dict)
        not_recorded = sent.status_code == 404 and sent.body.get("status") == "not_recorded"
        counted = found and outcome_of(
            int(sent.body.get("status_code", 0)), sent.body["answer"]
        ) in ("accepted", "conflict")
        if item.provisional and (not_recorded or (found and not counted)):
            # Admitted provisionally, and the lost request was not recorded (or refused): send
            # it again as what it became, a provisional check-in, under a key of its own.
            again = self.queue.requeue(key)
            log.warning(
                "check-in %s: lost, not recorded; sent again as %s", key, again.idempotency_key
            )
            return CheckinResult(
                key,
                "provisional",
                None,
                None,
                sent.link,
                time.perf_counter() - started,
                provisional=True,
                resolved=True,
            )
        if not_recorded:
            self.queue.close_item(key, "not_recorded")
            outcome, status_code, answer = "not_recorded", None, None
            log.warning("check-in %s: its answer was lost and it was never recorded", key)
        elif found:
            status_code = int(sent.body.get("status_code", 0))
            answer = sent.body["answer"]
            stored = self.queue.answer(key, status_code, answer)
            outcome = stored.outcome or outcome_of(status_code, answer)
            log.warning("check-in %s: the lost answer was %s", key, outcome)
        else:  # a service that cannot tell (too old, or refusing): ask again later
            log.warning("check-in %s: the service cannot tell (%s)", key, sent.status_code)
            return None
        result = CheckinResult(
            key,
            outcome,
            status_code,
            answer,
            sent.link,
            time.perf_counter() - started,
            provisional=item.provisional,
            resolved=True,
        )
        self._emit("resolved", {"result": result})
        return result

    async def _send(
        self, item: QueuedCheckin, started: float, *, replayed: bool
    ) -> CheckinResult | None:
        assert item.payload is not None
        payload = item.payload
        sent = await self._post("/v1/checkins", lambda _link: payload)
        if isinstance(sent, _Lost):
            key = item.idempotency_key
            if not sent.maybe_delivered or item.provisional:
                # Never reached the service (or accepted offline already: the replay is the
                # same request with the same key, so sending it again is what is wanted).
                self.queue.attempted(key)
                return None
            self.queue.mark_unknown(key)
            log.warning("check-in %s: the answer was lost; the voter must wait", key)
            return CheckinResult(
                key, "unknown", None, None, None, time.perf_counter() - started, replayed=replayed
            )
        stored = self.queue.answer(item.idempotency_key, sent.status_code, sent.body)
        outcome = stored.outcome or outcome_of(sent.status_code, sent.body)
        if outcome == "conflict":
            first = sent.body.get("first", {})
            log.warning(
                "check-in %s: conflict %s, the voter was first recorded at station %s",
                item.idempotency_key,
                sent.body.get("conflict_id"),
                first.get("station") if isinstance(first, dict) else None,
            )
            self._emit("conflict", {"idempotency_key": item.idempotency_key, **sent.body})
        log.debug("check-in %s: %s over %s", item.idempotency_key, outcome, sent.link)
        result = CheckinResult(
            item.idempotency_key,
            outcome,
            sent.status_code,
            sent.body,
            sent.link,
            time.perf_counter() - started,
            provisional=item.provisional,
            replayed=replayed,
        )
        if replayed:
            self._emit("replayed", {"result": result})
        return result

    def _unknown(self, result: CheckinResult, code: str | None, voter: Voter) -> CheckinResult:
        """A lost answer: under the provisional policy, admit after the device's own checks."""
        key = result.idempotency_key
        if self.policy != "provisional" or self._local_refusal(key, code, voter) is not None:
            return result
        self.queue.admit_unknown(key, self._clock())
        log.info("check-in %s: answer lost, accepted provisionally", key)
        return dataclasses.replace(result, outcome="provisional", provisional=True)

    def _local_refusal(self, key: str, code: str | None, voter: Voter) -> str | None:
        """Why the device itself refuses the voter offline, or ``None``."""
        if code is None:
            return "invalid_national_code"
        if not voter.card_read or voter.fingerprint_score < self.min_fingerprint_score:
            return "verification_failed"
        voter_hash = self.queue.voter_hash(code)
        if self.queue.has_voter(voter_hash, excluding=key):
            return "local_duplicate"
        return None

    def _offline(
        self, item: QueuedCheckin, code: str | None, voter: Voter, started: float
    ) -> CheckinResult:
        """No link answered: refuse, or accept provisionally after the device's own checks."""
        key = item.idempotency_key
        if self.policy == "refuse":
            self.queue.close_item(key, "link_down")
            log.warning("check-in %s: no link answers, refused (policy refuse)", key)
            return CheckinResult(key, "link_down", None, None, None, time.perf_counter() - started)
        outcome = self._local_refusal(key, code, voter)
        if outcome is not None:
            self.queue.close_item(key, outcome)
            return CheckinResult(key, outcome, None, None, None, time.perf_counter() - started)
        marked = self.queue.mark_provisional(key, self._clock())
        log.info("check-in %s: accepted provisionally, link down", key)
        return CheckinResult(
            key,
            "provisional",
            None,
            None,
            None,
            time.perf_counter() - started,
            provisional=marked.provisional,
        )

    async def _post(self, path: str, body: Callable[[str], Mapping[str, Any]]) -> _Sent | _Lost:
        """POST to the first link that answers (fiber first, failed links after ``retry_s``)."""
        return await self._request("POST", path, body)

    async def _request(
        self, method: str, path: str, body: Callable[[str], Mapping[str, Any]] | None
    ) -> _Sent | _Lost:
        """Send to the first link that answers; a :class:`_Lost` says whether the request may
        have reached the service although no answer came back."""
        now = time.monotonic()
        maybe_delivered = False
        for link in [lk for lk in self._links if lk.retry_at <= now]:
            try:
                if body is None:
                    response = await link.client.request(method, path)
                else:
                    response = await link.client.request(
                        method,
                        path,
                        content=json.dumps(body(link.name)).encode(),
                        headers={"content-type": "application/json"},
                    )
            except (httpx.TransportError, ssl.SSLError, OSError) as exc:
                maybe_delivered = maybe_delivered or not isinstance(exc, _NOT_SENT)
                self._failed(link, type(exc).__name__)
                continue
            if response.status_code >= 500:
                answer = _json_body(response)
                maybe_delivered = maybe_delivered or answer.get("reason") not in _SHED_REASONS
                self._failed(link, f"http_{response.status_code}")
                continue
            self._working(link)
            return _Sent(link.name, response.status_code, _json_body(response))
        if self.link is not None:
            log.warning("device %s: no link answers", self.bundle.serial)
            self._emit("link", {"from": self.link, "to": None})
            self.link = None
        return _Lost(maybe_delivered)

    def _failed(self, link: _Link, why: str) -> None:
        link.failures += 1
        link.retry_at = time.monotonic() + self.retry_s
        log.info("device %s: %s link failed (%s)", self.bundle.serial, link.name, why)

    def _working(self, link: _Link) -> None:
        link.retry_at = 0.0
        if self.link != link.name:
            if self.link is not None or link.name != self.links[0]:
                self.failovers += 1
            log.info("device %s: now on %s", self.bundle.serial, link.name)
            self._emit("link", {"from": self.link, "to": link.name})
            self.link = link.name

    def _emit(self, kind: str, data: Mapping[str, Any]) -> None:
        if self._on_event is not None:
            self._on_event(kind, data)


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    return {"status": "refused", "reason": f"http_{response.status_code}"}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def run_device(
    client: DeviceClient,
    lines: Callable[[], str],
    emit: Callable[[int, CheckinResult | ValueError], None],
    *,
    drain_timeout_s: float = 30.0,
) -> int:
    """Check in one voter per JSON line from ``lines`` (a blocking ``readline``) while the device
    heartbeats; ``emit`` gets each row's result, or the ``ValueError`` of a line it cannot read.

    At the end of input, waits up to ``drain_timeout_s`` for queued check-ins to be sent.
    Returns the number of unreadable lines.
    """
    stop = asyncio.Event()
    beating = asyncio.create_task(client.run(stop))
    bad = 0
    row = 0
    try:
        while line := await asyncio.to_thread(lines):
            if not line.strip():
                continue
            row += 1
            try:
                try:
                    data = json.loads(line)
                except ValueError:
                    raise ValueError("JSON") from None
                if not isinstance(data, dict):
                    raise ValueError("JSON object")
                voter = Voter.from_mapping(data)
            except ValueError as exc:
                bad += 1
                emit(row, exc)
                continue
            emit(row, await client.check_in(voter))
        deadline = time.monotonic() + drain_timeout_s
        while client.queue.depth() and time.monotonic() < deadline:
            await client.replay()
            if client.queue.depth():
                await asyncio.sleep(min(client.retry_s, max(0.0, deadline - time.monotonic())))
    finally:
        stop.set()
        await beating
    return bad


__all__ = [
    "LINKS",
    "POLICIES",
    "Bundle",
    "CheckinResult",
    "DeviceClient",
    "HeartbeatResult",
    "Voter",
    "run_device",
]

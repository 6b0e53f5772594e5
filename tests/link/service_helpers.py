"""What the service-side link tests share: a PKI, a running service, device clients, bodies."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from pollnet.link import pki
from pollnet.link.checkin import CheckinPolicy
from pollnet.link.national_code import check_digit
from pollnet.link.service import RunningService, start_in_thread
from pollnet.store import open_store

ELECTION = "test-election"
TODAY = dt.datetime.now(dt.UTC).date()


def national_code(n: int) -> str:
    """The ``n``-th valid national code of a deterministic sequence (never all one digit)."""
    first = f"{(n * 7919 + 12345) % 10**9:09d}"
    if first == first[0] * 9:
        first = first[:8] + str((int(first[8]) + 1) % 10)
    return first + str(check_digit(first))


def checkin_body(code: str, **changes: Any) -> dict[str, Any]:
    """A valid check-in body for ``code`` now; ``changes`` override fields."""
    body: dict[str, Any] = {
        "national_code": code,
        "birth_date": "1370/01/15",
        "card_read": True,
        "fingerprint_score": 0.93,
        "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "idempotency_key": str(uuid.uuid4()),
        "provisional_at": None,
    }
    body.update(changes)
    return body


def make_pki(folder: Path, devices: dict[str, str]) -> Path:
    """A PKI for an election today, a server certificate and a bundle per ``serial: station``."""
    pki.init_pki(folder, election_date=TODAY)
    pki.issue_server_cert(folder)
    for serial, station in devices.items():
        pki.enroll_device(folder, station, serial)
    return folder


def policy() -> CheckinPolicy:
    return CheckinPolicy(ELECTION, TODAY)


def client(pki_dir: Path, serial: str, service: RunningService) -> httpx.Client:
    """An HTTP client holding device ``serial``'s certificate, talking to ``service``."""
    bundle = pki_dir / "bundles" / serial
    return httpx.Client(verify=pki.device_ssl_context(bundle), base_url=service.url, timeout=10)


DEVICES = {"D-1": "ST-1", "D-2": "ST-1", "D-3": "ST-2", "D-4": "ST-3"}


@contextmanager
def sqlite_service(pki_dir: Path, folder: Path) -> Iterator[RunningService]:
    """The service on a fresh SQLite ledger in ``folder``, on a free port of 127.0.0.1."""
    engine = open_store(f"sqlite:///{folder / 'link.db'}")
    running = start_in_thread(engine, pki_dir, policy(), heartbeat_seconds=1.0)
    try:
        yield running
    finally:
        running.stop()
        engine.dispose()

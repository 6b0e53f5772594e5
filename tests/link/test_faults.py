"""The fault suite: poison requests and database faults mixed into honest load, bounded in time.

Every test here runs the real service (mutual TLS on 127.0.0.1) or its real writers, on SQLite
and on a real PostgreSQL, and checks that the honest devices are all served.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pollnet.link.service import RunningService, start_in_thread
from pollnet.store import open_store
from pollnet.store.schema.link import device_states
from tests.link.service_helpers import (
    checkin_body,
    client,
    make_pki,
    national_code,
    policy,
)

HONEST = {f"D-{n}": f"ST-{n}" for n in range(1, 5)}
POISONER = "D-9"
PER_DEVICE = 25


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki") / "pki", {**HONEST, POISONER: "ST-9"})


@pytest.fixture
def service(db_url: str, pki_dir: Path) -> Iterator[RunningService]:
    engine = open_store(db_url)
    running = start_in_thread(engine, pki_dir, policy(), heartbeat_seconds=1.0)
    try:
        yield running
    finally:
        running.stop()
        engine.dispose()


def _poison_bodies() -> list[dict[str, Any]]:
    """What one device sent to stop every check-in of the city (issue 15, item 1)."""
    return [
        checkin_body(national_code(900), provisional_at="0001-01-01T00:00:00+14:00"),
        checkin_body(national_code(901), provisional_at="9999-12-31T23:59:59-14:00"),
        checkin_body(national_code(902), idempotency_key="nul\x00key"),
        checkin_body(national_code(903), birth_date="1370/01/15\x00"),
    ]


def test_poison_check_ins_mixed_into_honest_load_fail_no_honest_check_in(
    pki_dir: Path, service: RunningService
) -> None:
    honest: dict[str, list[int]] = {}
    poisoned: list[int] = []
    stop = threading.Event()

    def device(serial: str, first: int) -> None:
        with client(pki_dir, serial, service) as http:
            honest[serial] = [
                http.post("/v1/checkins", json=checkin_body(national_code(n))).status_code
                for n in range(first, first + PER_DEVICE)
            ]

    def poisoner() -> None:
        deadline = time.monotonic() + 60  # bounded even if the honest devices hang
        with client(pki_dir, POISONER, service) as http:
            while not stop.is_set() and time.monotonic() < deadline:
                for body in _poison_bodies():
                    poisoned.append(http.post("/v1/checkins", json=body).status_code)

    threads = [threading.Thread(target=poisoner) for _ in range(2)]
    threads += [
        threading.Thread(target=device, args=(serial, i * PER_DEVICE))
        for i, serial in enumerate(HONEST)
    ]
    for t in threads:
        t.start()
    for t in threads[2:]:
        t.join(timeout=120)
    stop.set()
    for t in threads[:2]:
        t.join(timeout=70)
    assert not any(t.is_alive() for t in threads)
    for serial, statuses in honest.items():
        assert statuses == [201] * PER_DEVICE, serial
    assert len(poisoned) >= len(_poison_bodies())
    assert set(poisoned) == {400}
    with client(pki_dir, "D-1", service) as http:
        metrics = http.get("/metrics").text
    assert f'pollnet_checkins_total{{outcome="accepted"}} {len(HONEST) * PER_DEVICE}.0' in metrics


def test_a_nul_in_the_key_is_refused_with_a_clear_message(
    pki_dir: Path, service: RunningService
) -> None:
    """A NUL in a JSON string is valid JSON (``\\u0000``): the parser refuses it, not PostgreSQL."""
    with client(pki_dir, POISONER, service) as http:
        answer = http.post("/v1/checkins", json=_poison_bodies()[2])
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "refused",
        "reason": "malformed",
        "message": "idempotency_key must be 1 to 64 printable ASCII characters without spaces",
    }


def _beat(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "link": "fiber",
        "queue_depth": 0,
        "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "software_version": "1.0.0",
        "battery": 90,
    }
    body.update(changes)
    return body


def test_poison_heartbeats_mixed_into_honest_ones_leave_the_writer_up(
    pki_dir: Path, service: RunningService
) -> None:
    poisons = [
        _beat(queue_depth=2**63),
        _beat(queue_depth=2**31),
        _beat(software_version="1.0\x00"),
        _beat(device_time="0001-01-01T00:00:00+14:00"),
    ]
    honest: dict[str, list[int]] = {}

    def device(serial: str) -> None:
        with client(pki_dir, serial, service) as http:
            honest[serial] = [
                http.post("/v1/heartbeats", json=_beat()).status_code for _ in range(5)
            ]

    with client(pki_dir, POISONER, service) as http:
        threads = [threading.Thread(target=device, args=(serial,)) for serial in HONEST]
        for t in threads:
            t.start()
        poisoned = [http.post("/v1/heartbeats", json=body).status_code for body in poisons * 3]
        for t in threads:
            t.join(timeout=60)
        board = service.service.board
        deadline = time.monotonic() + 20
        while board.health().pending or board.health().last_written is None:
            assert time.monotonic() < deadline, board.health()
            time.sleep(0.1)
        writer = http.get("/v1/health").json()["heartbeat_writer"]
    assert honest == {serial: [200] * 5 for serial in HONEST}
    assert set(poisoned) == {400}
    assert writer["state"] == "ok" and writer["dropped"] == 0
    with service.service.engine.connect() as conn:
        written = set(conn.scalars(sa.select(device_states.c.device)))
    assert written == set(HONEST)

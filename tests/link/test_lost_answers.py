"""Lost answers: a check-in that may have reached the service is unknown, never lost or doubled.

The service answers ``GET /v1/checkins/{key}`` with the stored answer, or records that the key
never will be (so a late request cannot land). The device marks a request that may have been
delivered without an answer as ``unknown`` (under either policy), asks that question once any
link answers, and tells the operator. The fault test cuts links at random bytes under load: no
voter is both turned away and recorded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pollnet.link import pki
from pollnet.link.client import Bundle, CheckinResult, DeviceClient, Voter
from pollnet.link.ledger import checkin_count
from pollnet.link.queue import DurableQueue
from pollnet.link.service import RunningService
from pollnet.simulation.proxy import LinkProxy
from pollnet.store.schema.link import checkins
from tests.link.service_helpers import (
    ELECTION,
    checkin_body,
    client,
    make_pki,
    national_code,
    sqlite_service,
)

STATIONS = {"L-1": "ST-L", "L-2": "ST-L", "L-3": "ST-M"}


@pytest.fixture(scope="module")
def lost_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("lost-pki") / "pki", STATIONS)


@pytest.fixture
def service(lost_pki: Path, tmp_path: Path) -> Iterator[RunningService]:
    with sqlite_service(lost_pki, tmp_path) as running:
        yield running


def voter(n: int) -> Voter:
    return Voter(national_code(n), "1370/01/15", True, 0.9)


def test_lookup_gives_the_stored_answer_or_closes_the_key(
    lost_pki: Path, service: RunningService
) -> None:
    with client(lost_pki, "L-1", service) as one, client(lost_pki, "L-2", service) as two:
        body = checkin_body(national_code(1))
        posted = one.post("/v1/checkins", json=body)
        assert posted.status_code == 201
        found = one.get(f"/v1/checkins/{body['idempotency_key']}")
        assert found.status_code == 200
        assert found.json() == {
            "status": "found",
            "idempotency_key": body["idempotency_key"],
            "status_code": 201,
            "answer": posted.json(),
        }
        # Another device (even of the same station) does not see it, and its question does not
        # touch the first device's check-in.
        other = two.get(f"/v1/checkins/{body['idempotency_key']}")
        assert other.status_code == 404 and other.json()["status"] == "not_recorded"
        assert one.get(f"/v1/checkins/{body['idempotency_key']}").json()["status"] == "found"

        # A key never recorded: 404, and the request, should it still come, is never counted.
        late = checkin_body(national_code(2))
        missing = one.get(f"/v1/checkins/{late['idempotency_key']}")
        assert missing.status_code == 404 and missing.json()["status"] == "not_recorded"
        arrived = one.post("/v1/checkins", json=late)
        assert arrived.status_code == 422 and arrived.json()["reason"] == "not_recorded"
        assert one.get(f"/v1/checkins/{late['idempotency_key']}").status_code == 404

        for bad in ("x" * 65, "a%00b", "a%1Fb", "a%20b", "%D9%A1"):
            assert one.get(f"/v1/checkins/{bad}").status_code == 400, bad
    assert checkin_count(service.service.engine, ELECTION) == 1


def _device(
    pki_dir: Path, serial: str, proxies: dict[str, LinkProxy], tmp_path: Path, **options: Any
) -> DeviceClient:
    bundle = dataclasses.replace(
        Bundle.load(pki_dir / "bundles" / serial),
        endpoints={link: proxies[link].url for link in ("fiber", "lte")},
    )
    options.setdefault("queue", tmp_path / f"{serial}.db")
    options.setdefault("retry_s", 0.1)
    device = DeviceClient(bundle, **options)
    device.open()
    return device


@pytest.mark.parametrize("policy", ["refuse", "provisional"])
def test_a_database_stall_longer_than_the_timeout_is_unknown_then_resolved(
    lost_pki: Path, service: RunningService, tmp_path: Path, policy: str
) -> None:
    """The issue's case: the answer comes after the device gave up. Not closed as refused:
    unknown (admitted provisionally under that policy); once the ledger answers, the device
    finds the recorded answer and says so."""
    events: list[CheckinResult] = []
    ledger_file = tmp_path / "link.db"

    async def main() -> None:
        proxies = {
            link: await LinkProxy("127.0.0.1", service.port).start() for link in ("fiber", "lte")
        }
        device = _device(
            lost_pki,
            "L-1",
            proxies,
            tmp_path,
            policy=policy,
            timeout_s=0.5,
            on_event=lambda kind, data: events.append(data["result"]) if kind == "resolved" else 0,
        )
        try:
            assert (await device.check_in(voter(10))).outcome == "accepted"
            stall = sqlite3.connect(ledger_file, timeout=5, check_same_thread=False)
            stall.execute("BEGIN EXCLUSIVE")
            threading.Timer(2.0, stall.commit).start()
            result = await device.check_in(voter(11))
            if policy == "refuse":
                assert result.outcome == "unknown" and not result.admitted
            else:
                assert result.outcome == "provisional" and result.admitted
            assert device.queue.depth() == 1
            await asyncio.sleep(2.5)
            [resolved] = await device.replay()
            assert resolved.resolved and resolved.outcome == "accepted"
            assert resolved.idempotency_key == result.idempotency_key
            assert events == [resolved] and device.queue.depth() == 0
            again = await device.check_in(voter(11))  # the voter comes back: already recorded
            assert again.outcome == "duplicate"
        finally:
            await device.aclose()
            for proxy in proxies.values():
                await proxy.close()

    asyncio.run(asyncio.wait_for(main(), 60))
    assert checkin_count(service.service.engine, ELECTION) == 2


def test_after_a_crash_an_unsent_check_in_is_not_replayed_behind_the_operators_back(
    lost_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    """The device died between queueing a check-in and hearing back. It is asked about, not
    sent again: never delivered means never recorded, and the operator is told."""
    bundle = lost_pki / "bundles" / "L-3"
    body = {k: v for k, v in checkin_body(national_code(20)).items() if k != "idempotency_key"}
    with DurableQueue(tmp_path / "L-3.db", pki.queue_key(bundle)) as queue:
        lost = queue.put(body, voter_hash=None)
        delivered = queue.put(checkin_body(national_code(21)), voter_hash=None)
        assert delivered.payload is not None
        with client(lost_pki, "L-3", service) as raw:
            original = raw.post("/v1/checkins", json=dict(delivered.payload))
        assert original.status_code == 201

    async def main() -> list[CheckinResult]:
        proxies = {
            link: await LinkProxy("127.0.0.1", service.port).start() for link in ("fiber", "lte")
        }
        device = _device(lost_pki, "L-3", proxies, tmp_path)
        try:
            assert [i.state for i in device.queue.items()] == ["unknown", "unknown"]
            return await device.replay()
        finally:
            await device.aclose()
            for proxy in proxies.values():
                await proxy.close()

    first, second = asyncio.run(asyncio.wait_for(main(), 60))
    assert (first.idempotency_key, first.outcome) == (lost.idempotency_key, "not_recorded")
    assert (second.idempotency_key, second.outcome) == (delivered.idempotency_key, "accepted")
    assert second.answer == original.json() and second.resolved
    assert checkin_count(service.service.engine, ELECTION) == 1
    with DurableQueue(tmp_path / "L-3.db", pki.queue_key(bundle)) as queue:
        assert [i.payload for i in queue.items()] == [None, None]  # codes erased once known


def test_a_lost_request_admitted_provisionally_is_sent_again_as_provisional(
    lost_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    """Provisional policy, crash-free: the answer was lost and the request never recorded (here:
    the ledger refused it while the device waited). The voter was admitted on the device, so
    the device sends a provisional check-in under a new key: the service records a conflict
    when the voter had meanwhile been recorded elsewhere."""
    bundle = lost_pki / "bundles" / "L-1"
    with DurableQueue(tmp_path / "L-1.db", pki.queue_key(bundle)) as queue:
        body = {k: v for k, v in checkin_body(national_code(30)).items() if k != "idempotency_key"}
        item = queue.put(body, voter_hash=None)
        queue.mark_unknown(item.idempotency_key)
        queue.admit_unknown(item.idempotency_key, dt.datetime.now(dt.UTC))
    with client(lost_pki, "L-3", service) as other:  # the voter, recorded at another station
        assert other.post("/v1/checkins", json=checkin_body(national_code(30))).status_code == 201

    async def main() -> list[CheckinResult]:
        proxies = {
            link: await LinkProxy("127.0.0.1", service.port).start() for link in ("fiber", "lte")
        }
        device = _device(lost_pki, "L-1", proxies, tmp_path, policy="provisional")
        try:
            return await device.replay()
        finally:
            await device.aclose()
            for proxy in proxies.values():
                await proxy.close()

    resolved, sent = asyncio.run(asyncio.wait_for(main(), 60))
    assert resolved.resolved and resolved.idempotency_key == item.idempotency_key
    assert sent.outcome == "conflict" and sent.idempotency_key != item.idempotency_key
    assert checkin_count(service.service.engine, ELECTION) == 1


def test_links_cut_at_random_bytes_never_turn_away_a_recorded_voter(
    lost_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    """Fault test: every connection of both links is reset after a random number of the
    service's bytes (in the handshake, after the request, after the answer). In the end every
    voter the ledger holds was admitted on the device, and no voter admitted is missing."""
    rng = random.Random(15)
    voters = 40
    outcomes: dict[str, str] = {}

    async def main() -> None:
        proxies = {
            link: await LinkProxy("127.0.0.1", service.port).start() for link in ("fiber", "lte")
        }
        for proxy in proxies.values():
            proxy.reset_after = lambda: rng.randrange(1000, 8000)
        device = _device(
            lost_pki, "L-2", proxies, tmp_path, policy="refuse", timeout_s=2.0, retry_s=0.05
        )
        try:
            for n in range(voters):
                result = await device.check_in(voter(100 + n))
                outcomes[result.idempotency_key] = result.outcome
                # Voters come one after another, not all within one retry period: each one
                # finds the links worth trying again, so every voter meets the cuts.
                await asyncio.sleep(device.retry_s * 1.2)
            for proxy in proxies.values():
                proxy.reset_after = None
            deadline = time.monotonic() + 30
            while device.queue.depth() and time.monotonic() < deadline:
                for result in await device.replay():
                    outcomes[result.idempotency_key] = result.outcome
                await asyncio.sleep(0.1)
            assert device.queue.depth() == 0
            assert sum(p.resets for p in proxies.values()) > 5  # the links really were cut
            final = {i.idempotency_key: i for i in device.queue.items()}
        finally:
            await device.aclose()
            for proxy in proxies.values():
                await proxy.close()
        admitted = {
            int(i.answer["checkin_id"])
            for i in final.values()
            if i.outcome == "accepted" and i.answer is not None
        }
        with service.service.engine.connect() as conn:
            recorded = set(conn.scalars(sa.select(checkins.c.id).where(checkins.c.device == "L-2")))
        assert recorded == admitted, "a voter turned away was recorded, or one admitted was not"
        turned_away = [k for k, i in final.items() if i.outcome in ("link_down", "not_recorded")]
        assert len(admitted) + len(turned_away) == voters
        assert "unknown" in outcomes.values() or "not_recorded" in outcomes.values()

    asyncio.run(asyncio.wait_for(main(), 120))

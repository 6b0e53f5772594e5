"""The device client against the real service over mutual TLS: links, failover, heartbeats.

The fiber and LTE endpoints of a device are :class:`LinkProxy` relays in front of the service;
cutting a relay is a real cut (connections refused and reset), not a mock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pollnet.link import pki
from pollnet.link.client import Bundle, DeviceClient, Voter
from pollnet.link.ledger import checkin_count
from pollnet.link.queue import DurableQueue
from pollnet.link.service import RunningService
from pollnet.simulation.proxy import LinkProxy
from tests.link.service_helpers import (
    ELECTION,
    TODAY,
    make_pki,
    national_code,
    sqlite_service,
)

STATIONS = {"C-1": "ST-A", "C-2": "ST-B"}


@pytest.fixture(scope="module")
def device_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("device-pki") / "pki", STATIONS)


@pytest.fixture
def service(device_pki: Path, tmp_path: Path) -> Iterator[RunningService]:
    with sqlite_service(device_pki, tmp_path) as running:
        yield running


def voter(n: int, **changes: Any) -> Voter:
    fields = {
        "national_code": national_code(n),
        "birth_date": "1370/01/15",
        "card_read": True,
        "fingerprint_score": 0.9,
    }
    fields.update(changes)
    return Voter(**fields)


Scenario = Callable[[dict[str, LinkProxy], Callable[..., DeviceClient]], Awaitable[None]]


def run(device_pki: Path, service: RunningService, tmp_path: Path, scenario: Scenario) -> None:
    """Run ``scenario`` with a fiber and an LTE relay per station, in front of ``service``."""

    async def main() -> None:
        proxies = {}
        for station in sorted(set(STATIONS.values())):
            for link in ("fiber", "lte"):
                proxies[f"{station}/{link}"] = await LinkProxy("127.0.0.1", service.port).start()
        opened: list[DeviceClient] = []

        def device(serial: str, **options: Any) -> DeviceClient:
            station = STATIONS[serial]
            bundle = dataclasses.replace(
                Bundle.load(device_pki / "bundles" / serial),
                endpoints={link: proxies[f"{station}/{link}"].url for link in ("fiber", "lte")},
            )
            options.setdefault("queue", tmp_path / f"{serial}.db")
            client = DeviceClient(bundle, retry_s=0.2, timeout_s=5, **options)
            client.open()
            opened.append(client)
            return client

        try:
            await scenario(proxies, device)
        finally:
            for client in opened:
                await client.aclose()
            for proxy in proxies.values():
                await proxy.close()

    asyncio.run(main())


def test_checked_in_over_fiber_and_refused_at_another_station(
    device_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    async def scenario(proxies: dict[str, LinkProxy], device: Callable[..., DeviceClient]) -> None:
        a, b = device("C-1"), device("C-2")
        first = await a.check_in(voter(1))
        assert first.outcome == "accepted" and first.link == "fiber" and a.link == "fiber"
        assert first.answer is not None and first.answer["station"] == "ST-A"
        again = await b.check_in(voter(1))
        assert again.outcome == "duplicate" and again.status_code == 409
        assert again.answer is not None and again.answer["first"]["station"] == "ST-A"
        young = await b.check_in(
            voter(2, birth_date=(TODAY - dt.timedelta(days=365 * 15)).isoformat())
        )
        assert young.outcome == "under_age"
        assert a.queue.depth() == 0 and b.queue.depth() == 0

    run(device_pki, service, tmp_path, scenario)
    assert checkin_count(service.service.engine, ELECTION) == 1


def test_fails_over_to_lte_and_back_to_fiber(
    device_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    events: list[tuple[str, dict[str, Any]]] = []

    async def scenario(proxies: dict[str, LinkProxy], device: Callable[..., DeviceClient]) -> None:
        client = device("C-1", on_event=lambda kind, data: events.append((kind, dict(data))))
        assert (await client.check_in(voter(10))).link == "fiber"
        await proxies["ST-A/fiber"].cut()  # the open keep-alive connection is reset too
        cut = await client.check_in(voter(11))
        assert cut.outcome == "accepted" and cut.link == "lte" and client.link == "lte"
        beat = await client.heartbeat()
        assert beat is not None and beat.link == "lte"
        await proxies["ST-A/fiber"].restore()
        await asyncio.sleep(0.3)  # retry_s: the fiber link is tried again
        back = await client.check_in(voter(12))
        assert back.outcome == "accepted" and back.link == "fiber" and client.link == "fiber"
        assert client.failovers == 2

    run(device_pki, service, tmp_path, scenario)
    links = [data["to"] for kind, data in events if kind == "link"]
    assert links == ["fiber", "lte", "fiber"]
    assert checkin_count(service.service.engine, ELECTION) == 3


def test_refuse_policy_tells_the_operator_and_sends_nothing_later(
    device_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    async def scenario(proxies: dict[str, LinkProxy], device: Callable[..., DeviceClient]) -> None:
        client = device("C-1", policy="refuse")
        await proxies["ST-A/fiber"].cut()
        await proxies["ST-A/lte"].cut()
        result = await client.check_in(voter(20))
        assert result.outcome == "link_down" and not result.admitted and client.link is None
        assert await client.heartbeat() is None
        assert client.queue.depth() == 0
        await proxies["ST-A/fiber"].restore()
        await asyncio.sleep(0.3)
        assert await client.replay() == []
        assert (await client.check_in(voter(21))).outcome == "accepted"

    run(device_pki, service, tmp_path, scenario)
    assert checkin_count(service.service.engine, ELECTION) == 1


def test_heartbeat_reports_link_queue_and_clock_skew(
    device_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    skew = dt.timedelta(seconds=90)
    events: list[tuple[str, Any]] = []

    async def scenario(proxies: dict[str, LinkProxy], device: Callable[..., DeviceClient]) -> None:
        client = device(
            "C-2",
            clock=lambda: dt.datetime.now(dt.UTC) + skew,
            battery=lambda: 77,
            on_event=lambda kind, data: events.append((kind, data.get("result"))),
        )
        beat = await client.heartbeat()
        assert beat is not None and beat.link == "fiber" and beat.queue_depth == 0
        assert beat.state in ("ready", "degraded")
        assert abs(beat.clock_skew_s - 90) < 2 and client.clock_skew_s == beat.clock_skew_s
        assert ("heartbeat", beat) in events

    run(device_pki, service, tmp_path, scenario)
    time_left = 5.0
    state = None
    while time_left > 0:  # the heartbeat board writes about once a second
        state = service.service.board.readiness(dt.datetime.now(dt.UTC))
        if state:
            break
        time_left -= 0.1
    assert state is not None and [s.station for s in state] == ["ST-B"]


def test_a_replay_after_a_crash_gets_the_original_answer(
    device_pki: Path, service: RunningService, tmp_path: Path
) -> None:
    """The device sent a check-in, then died before storing the answer: it asks, and gets the
    original answer back (not a second vote)."""
    queue_path = tmp_path / "C-1.db"
    with DurableQueue(queue_path, pki.queue_key(device_pki / "bundles" / "C-1")) as queue:
        item = queue.put(
            {
                "national_code": national_code(30),
                "birth_date": "1991-04-04",
                "card_read": True,
                "fingerprint_score": 0.8,
                "device_time": dt.datetime.now(dt.UTC).isoformat(),
                "provisional_at": None,
            },
            voter_hash=None,
        )
        assert item.payload is not None
        with httpx.Client(
            verify=pki.device_ssl_context(device_pki / "bundles" / "C-1"),
            base_url=service.url,
            timeout=10,
        ) as raw:
            original = raw.post("/v1/checkins", json=dict(item.payload))
        assert original.status_code == 201

    async def scenario(proxies: dict[str, LinkProxy], device: Callable[..., DeviceClient]) -> None:
        client = device("C-1")
        assert client.queue.depth() == 1
        [replayed] = await client.replay()
        assert replayed.resolved and replayed.idempotency_key == item.idempotency_key
        assert replayed.answer == original.json()  # verbatim: same checkin_id, same time
        assert client.queue.depth() == 0

    run(device_pki, service, tmp_path, scenario)
    assert checkin_count(service.service.engine, ELECTION) == 1


def test_no_raw_national_code_in_the_logs(
    device_pki: Path, service: RunningService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pollnet.link.device")

    async def scenario(proxies: dict[str, LinkProxy], device: Callable[..., DeviceClient]) -> None:
        client = device("C-1", policy="provisional")
        await client.check_in(voter(40))
        await proxies["ST-A/fiber"].cut()
        await proxies["ST-A/lte"].cut()
        assert (await client.check_in(voter(41))).outcome == "provisional"

    run(device_pki, service, tmp_path, scenario)
    assert caplog.records, "the client logs what it does"
    assert national_code(40) not in caplog.text and national_code(41) not in caplog.text

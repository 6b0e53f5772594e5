"""A station offline: provisional check-ins, ordered replay, conflicts, nobody counted twice."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pollnet.link.checkin import voter_hash
from pollnet.link.client import Bundle, DeviceClient, Voter
from pollnet.link.ledger import checkin_count
from pollnet.link.pki import read_ledger_key
from pollnet.link.queue import QueuedCheckin
from pollnet.link.service import start_in_thread
from pollnet.simulation.proxy import LinkProxy
from pollnet.store import open_store
from pollnet.store.schema.link import checkin_conflicts, checkins
from tests.link.service_helpers import ELECTION, make_pki, national_code, policy

STATIONS = {"O-1": "ST-OUT", "O-2": "ST-ON"}


@pytest.fixture(scope="module")
def offline_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("offline-pki") / "pki", STATIONS)


def voter(n: int) -> Voter:
    return Voter(national_code(n), "1365/07/01", True, 0.88)


def test_provisional_then_replay_makes_a_conflict_and_counts_once(
    offline_pki: Path, tmp_path: Path, db_url: str
) -> None:
    engine = open_store(db_url)
    service = start_in_thread(engine, offline_pki, policy(), heartbeat_seconds=1.0)

    async def scenario() -> None:
        fiber = await LinkProxy("127.0.0.1", service.port).start()
        lte = await LinkProxy("127.0.0.1", service.port).start()
        bundle = dataclasses.replace(
            Bundle.load(offline_pki / "bundles" / "O-1"),
            endpoints={"fiber": fiber.url, "lte": lte.url},
        )
        conflicts: list[dict[str, object]] = []
        out = DeviceClient(
            bundle,
            policy="provisional",
            queue=tmp_path / "out.db",
            retry_s=0.1,
            on_event=lambda kind, data: (
                conflicts.append(dict(data)) if kind == "conflict" else None
            ),
        )
        on = DeviceClient(
            dataclasses.replace(
                Bundle.load(offline_pki / "bundles" / "O-2"), endpoints={"fiber": service.url}
            ),
            queue=tmp_path / "on.db",
        )
        async with out, on:
            assert (await out.check_in(voter(1))).outcome == "accepted"
            await fiber.cut()
            await lte.cut()
            # The link is down for a while: voters 2..6 are accepted provisionally.
            taken = [await out.check_in(voter(n)) for n in range(2, 7)]
            assert [r.outcome for r in taken] == ["provisional"] * 5
            assert all(r.provisional and r.link is None for r in taken)
            # The device's own duplicate check, offline: voter 1 (online earlier) and 3 again.
            assert (await out.check_in(voter(1))).outcome == "local_duplicate"
            assert (await out.check_in(voter(3))).outcome == "local_duplicate"
            assert out.queue.depth() == 5
            # Meanwhile voters 3 and 5 vote at the other station, which is online.
            assert (await on.check_in(voter(3))).outcome == "accepted"
            assert (await on.check_in(voter(5))).outcome == "accepted"
            await lte.restore()
            await asyncio.sleep(0.2)
            results = await out.replay()
            # The first request after the cut may have gone out on the kept-alive connection
            # the cut reset: its answer is lost, so the device asked the service (not recorded)
            # and sent it again as provisional under a new key. The others went nowhere.
            lost = [r for r in results if r.resolved]
            replayed = [r for r in results if not r.resolved]
            assert [r.idempotency_key for r in lost] in ([], [taken[0].idempotency_key])
            sent = [r.idempotency_key for r in replayed]
            assert sent[1:] == [r.idempotency_key for r in taken[1:]]
            assert (sent[0] == taken[0].idempotency_key) == (not lost)
            assert [r.outcome for r in replayed] == [
                "accepted",
                "conflict",
                "accepted",
                "conflict",
                "accepted",
            ]
            assert all(r.replayed and r.link == "lte" for r in replayed)
            assert out.queue.depth() == 0
            stored = out.conflicts()
            assert [c.idempotency_key for c in stored] == [
                taken[1].idempotency_key,
                taken[3].idempotency_key,
            ]
            assert all(c.answer and c.answer["first"]["station"] == "ST-ON" for c in stored)
            # A second replay sends nothing; a resend of a key gets the stored answer back.
            assert await out.replay() == []
        await fiber.close()
        await lte.close()
        assert len(conflicts) == 2

    try:
        asyncio.run(scenario())
    finally:
        service.stop()
    assert checkin_count(engine, ELECTION) == 6  # voters 1..6, each once
    with engine.connect() as conn:
        stations = dict(conn.execute(sa.select(checkins.c.id, checkins.c.station)).all())
        kept = conn.execute(
            sa.select(checkin_conflicts.c.station, checkin_conflicts.c.first_checkin_id)
        ).all()
        voters = conn.scalar(sa.select(sa.func.count(sa.distinct(checkins.c.voter_hash))))
    assert voters == 6
    assert len(kept) == 2 and all(station == "ST-OUT" for station, _ in kept)
    assert all(stations[first] == "ST-ON" for _, first in kept)  # both records are kept
    engine.dispose()


def test_the_backlog_goes_before_a_new_checkin(offline_pki: Path, tmp_path: Path) -> None:
    """A check-in taken after the link returns waits for the older provisional ones."""
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    service = start_in_thread(engine, offline_pki, policy(), heartbeat_seconds=1.0)

    async def scenario() -> None:
        fiber = await LinkProxy("127.0.0.1", service.port).start()
        bundle = dataclasses.replace(
            Bundle.load(offline_pki / "bundles" / "O-1"), endpoints={"fiber": fiber.url}
        )
        async with DeviceClient(
            bundle, policy="provisional", queue=tmp_path / "q.db", retry_s=0.05
        ) as client:
            await fiber.cut()
            early = [await client.check_in(voter(n)) for n in (10, 11)]
            await fiber.restore()
            await asyncio.sleep(0.1)
            late = await client.check_in(voter(12))
            assert late.outcome == "accepted" and client.queue.depth() == 0
            items = client.queue.items()
            assert [i.idempotency_key for i in items] == [
                *(r.idempotency_key for r in early),
                late.idempotency_key,
            ]
            ids = [i.answer["checkin_id"] for i in items if i.answer]
            assert ids == sorted(ids)  # the service recorded them in the order taken
        await fiber.close()

    try:
        asyncio.run(scenario())
    finally:
        service.stop()
        engine.dispose()


def test_the_run_loop_replays_once_a_link_returns(offline_pki: Path, tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    service = start_in_thread(engine, offline_pki, policy(), heartbeat_seconds=1.0)

    async def scenario() -> None:
        fiber = await LinkProxy("127.0.0.1", service.port).start()
        bundle = dataclasses.replace(
            Bundle.load(offline_pki / "bundles" / "O-1"),
            endpoints={"fiber": fiber.url},
            heartbeat_seconds=30,
        )
        async with DeviceClient(
            bundle, policy="provisional", queue=tmp_path / "q.db", retry_s=0.1
        ) as client:
            await fiber.cut()
            assert (await client.check_in(voter(20))).outcome == "provisional"
            stop = asyncio.Event()
            loop = asyncio.create_task(client.run(stop))
            await asyncio.sleep(0.3)
            assert client.queue.depth() == 1  # still cut
            await fiber.restore()
            for _ in range(50):
                if client.queue.depth() == 0:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await loop
            assert client.queue.depth() == 0 and client.link == "fiber"
            assert client.queue.items()[0].outcome == "accepted"
        await fiber.close()

    try:
        asyncio.run(scenario())
    finally:
        service.stop()
    assert checkin_count(engine, ELECTION) == 1
    engine.dispose()


_next_voter = iter(range(1_000, 10**9, 100))


@pytest.fixture(scope="module")
def shared_service(offline_pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('shared') / 'link.db'}")
    service = start_in_thread(engine, offline_pki, policy(), heartbeat_seconds=1.0)
    try:
        yield service
    finally:
        service.stop()
        engine.dispose()


Step = tuple[str, int, int]  # ("in", device 0|1, voter 0..5) or ("cut"|"restore", device, 0)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("in"), st.integers(0, 1), st.integers(0, 5)),
            st.tuples(st.sampled_from(["cut", "restore"]), st.integers(0, 1), st.just(0)),
        ),
        min_size=1,
        max_size=14,
    )
)
@example([("cut", 0, 0), ("in", 0, 1), ("in", 1, 1), ("in", 0, 1), ("in", 1, 2)])
@example([("cut", 0, 0), ("cut", 1, 0), ("in", 0, 3), ("in", 1, 3), ("restore", 1, 0)])
def test_a_voter_is_counted_at_most_once_whatever_the_cuts(
    offline_pki: Path, shared_service: Any, steps: list[Step]
) -> None:
    """Any sequence of check-ins and cuts at two stations: once the links are back and the
    queues replayed, each voter is in the ledger at most once, every extra admission offline is
    a recorded conflict, and nothing is left behind."""
    base = next(_next_voter)
    with tempfile.TemporaryDirectory(prefix="pollnet-prop-") as name:
        _cuts_scenario(offline_pki, shared_service, steps, base, Path(name))


def _cuts_scenario(
    offline_pki: Path, shared_service: Any, steps: list[Step], base: int, folder: Path
) -> None:
    """One example of the property, with the devices' queues in ``folder``."""

    async def scenario() -> list[list[QueuedCheckin]]:
        proxies = [await LinkProxy("127.0.0.1", shared_service.port).start() for _ in range(2)]
        clients = [
            DeviceClient(
                dataclasses.replace(
                    Bundle.load(offline_pki / "bundles" / serial), endpoints={"fiber": proxy.url}
                ),
                policy="provisional",
                queue=folder / f"{serial}.db",
                retry_s=0.0,
            )
            for serial, proxy in zip(("O-1", "O-2"), proxies, strict=True)
        ]
        for client in clients:
            client.open()
        for action, device, n in steps:
            if action == "in":
                await clients[device].check_in(voter(base + n))
            elif action == "cut":
                await proxies[device].cut()
            else:
                await proxies[device].restore()
        for proxy in proxies:
            await proxy.restore()
        for client in clients:
            await client.replay()
        items = [client.queue.items() for client in clients]
        for client in clients:
            await client.aclose()
        for proxy in proxies:
            await proxy.close()
        return items

    items = [i for per_device in asyncio.run(scenario()) for i in per_device]
    engine = shared_service.service.engine
    voters = {base + n for action, _d, n in steps if action == "in"}
    hashes = {voter_hash(read_ledger_key(offline_pki), national_code(n)) for n in voters}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(checkins.c.voter_hash, sa.func.count())
            .where(checkins.c.voter_hash.in_(hashes))
            .group_by(checkins.c.voter_hash)
        ).all()
        conflicts = conn.scalar(
            sa.select(sa.func.count())
            .select_from(checkin_conflicts)
            .where(checkin_conflicts.c.voter_hash.in_(hashes))
        )
    assert all(count == 1 for _h, count in rows)  # at most once
    assert all(i.state != "pending" for i in items)  # everything replayed
    outcomes = [i.outcome for i in items]
    assert len(rows) == outcomes.count("accepted")
    assert conflicts == outcomes.count("conflict")
    assert all(i.provisional for i in items if i.outcome == "conflict")

"""Fuzzing every parser on the wire: any body gets a clear answer, never a 5xx or a traceback.

The bodies go through the real app (its JSON reader, the check-in and heartbeat parsers, the
ledger's writer and the heartbeat writer) on SQLite and on PostgreSQL, in-process; each answer is
a refusal (400, 413, 415, 422) or a clean result (200, 201, 409), and an honest check-in sent
after them is still recorded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pollnet.link.service import LinkService
from pollnet.store import open_store
from tests.link.asgi_helpers import call, device_pem
from tests.link.service_helpers import DEVICES, checkin_body, make_pki, national_code, policy

CLEAN = {200, 201, 409, 422}
REFUSED = {400, 413, 415}


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki") / "pki", DEVICES)


@pytest.fixture
def app(db_url: str, pki_dir: Path) -> Iterator[LinkService]:
    engine = open_store(db_url)
    service = LinkService(engine, pki_dir, policy(), heartbeat_seconds=1.0)
    service.start()
    try:
        yield service
    finally:
        service.stop()
        engine.dispose()


def _offsets() -> st.SearchStrategy[str]:
    return st.tuples(
        st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)
    ).map(lambda t: f"{t[0]}{t[1]:02d}:{t[2]:02d}" + (f":{t[3]:02d}" if t[3] else ""))


def _times() -> st.SearchStrategy[Any]:
    """ISO texts (any year, any offset, near now), and things that only look like times."""
    near = st.integers(-(10**6), 10**6).map(
        lambda s: (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=s)).isoformat()
    )
    edges = st.one_of(
        st.datetimes(max_value=dt.datetime(1, 1, 2)),
        st.datetimes(min_value=dt.datetime(9999, 12, 30)),
        st.datetimes(),
    )
    anywhere = st.tuples(edges, _offsets()).map(lambda t: t[0].isoformat() + t[1])
    return st.one_of(near, anywhere, _nasty())


def _nasty() -> st.SearchStrategy[Any]:
    """Values of every JSON type, with the characters and sizes databases choke on."""
    texts = st.text(
        st.one_of(st.characters(codec="utf-8"), st.sampled_from("\x00\x1f\u200f\ufeff۰")),
        max_size=80,
    )
    texts = st.one_of(texts, st.tuples(texts, texts).map("\x00".join))
    numbers = st.one_of(
        st.integers(-(2**64), 2**64),
        st.sampled_from([2**31, 2**63, -(2**63) - 1, 0, 1]),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )


FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "national_code": st.one_of(st.just("0499370899"), _nasty()),
    "birth_date": st.one_of(st.just("1370/01/15"), st.just("0001-01-01"), _nasty()),
    "card_read": st.one_of(st.booleans(), _nasty()),
    "fingerprint_score": st.one_of(st.floats(0, 1), _nasty()),
    "device_time": _times(),
    "provisional_at": _times(),
    "idempotency_key": _nasty(),
}
BEAT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "link": st.one_of(st.sampled_from(["fiber", "lte"]), _nasty()),
    "queue_depth": st.one_of(st.integers(0, 2**64), _nasty()),
    "device_time": _times(),
    "software_version": st.one_of(st.just("1.0.0"), _nasty()),
    "battery": st.one_of(st.none(), st.integers(-(2**64), 2**64), _nasty()),
}


def _bodies(values: dict[str, st.SearchStrategy[Any]], base: dict[str, Any]) -> Any:
    """A valid body with some fields replaced, dropped or added; or raw bytes.

    A check-in body gets a fresh idempotency key unless the key itself is fuzzed (a key seen
    before would get its stored answer back, whatever the body).
    """
    fresh = {"idempotency_key": st.uuids().map(str)} if "idempotency_key" in base else {}
    names = st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=2, unique=True)
    replaced = names.flatmap(lambda chosen: st.fixed_dictionaries({n: values[n] for n in chosen}))
    changed = st.tuples(st.fixed_dictionaries(fresh), replaced).map(
        lambda c: json.dumps({**base, **c[0], **c[1]})
    )
    dropped = st.sets(st.sampled_from(sorted(base))).map(
        lambda gone: json.dumps({k: v for k, v in base.items() if k not in gone})
    )
    others = st.one_of(dropped, _nasty().map(json.dumps), st.binary(max_size=200))
    return st.one_of(changed, changed, changed, others)


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_any_check_in_body_gets_a_clear_answer(app: LinkService, pki_dir: Path) -> None:
    pem = device_pem(pki_dir, "D-1")
    base = checkin_body("0499370899")

    @FUZZ
    @given(_bodies(FIELD_VALUES, base))
    @example(json.dumps(checkin_body("0499370899", provisional_at="0001-01-01T00:00:00+14:00")))
    @example(json.dumps(checkin_body("0499370899", idempotency_key="nul\x00key")))
    def one(body: str | bytes) -> None:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        status, answer = asyncio.run(call(app, pem, "POST", "/v1/checkins", raw))
        assert status in CLEAN | REFUSED, (status, answer)
        assert json.loads(answer)["status"] in ("accepted", "refused", "conflict")

    one()
    honest = json.dumps(checkin_body(national_code(7))).encode()
    assert asyncio.run(call(app, pem, "POST", "/v1/checkins", honest))[0] == 201
    assert app.ledger.unwritable == 0  # every bad body was refused by the parser


def test_any_heartbeat_body_gets_a_clear_answer_and_the_writer_stays_up(
    app: LinkService, pki_dir: Path
) -> None:
    pem = device_pem(pki_dir, "D-2")
    base = {
        "link": "fiber",
        "queue_depth": 0,
        "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "software_version": "1.0.0",
        "battery": 80,
    }

    @FUZZ
    @given(_bodies(BEAT_VALUES, base))
    @example(json.dumps({**base, "queue_depth": 2**63}))
    @example(json.dumps({**base, "queue_depth": 2**31}))
    @example(json.dumps({**base, "software_version": "1.0\x00"}))
    def one(body: str | bytes) -> None:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        status, answer = asyncio.run(call(app, pem, "POST", "/v1/heartbeats", raw))
        assert status in {200} | REFUSED, (status, answer)
        if status == 200:
            app.board.flush()  # written now, on this database: it must take what was accepted

    one()
    honest = json.dumps(base).encode()
    assert asyncio.run(call(app, pem, "POST", "/v1/heartbeats", honest))[0] == 200
    app.board.flush()

"""The ledger's hash-chained audit: intact after real traffic, and any tampering shows."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pollnet.link.audit import verify_audit
from pollnet.link.ledger import Ledger
from pollnet.store import open_store
from pollnet.store.schema.link import checkins, ledger_audit
from tests.link.service_helpers import national_code
from tests.link.test_ledger import _checkin


def _traffic(engine: sa.Engine) -> None:
    offline = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    with Ledger(engine, "e1") as ledger:
        for n in range(12):
            ledger.record(_checkin(national_code(n), station=f"ST-{n % 3}"))
        ledger.record(_checkin(national_code(3), device="D-9"))  # duplicate
        ledger.record(_checkin(national_code(4), device="D-9", provisional_at=offline))  # conflict
    with Ledger(engine, "e1") as ledger:  # a restart continues the chain
        ledger.record(_checkin(national_code(40)))


def test_the_audit_of_real_traffic_verifies(db_url: str) -> None:
    engine = open_store(db_url)
    _traffic(engine)
    report = verify_audit(engine)
    assert report.ok, report.problems
    assert (report.checkins, report.conflicts) == (13, 1)


def test_tampering_shows(db_url: str) -> None:
    engine = open_store(db_url)
    _traffic(engine)
    with engine.begin() as conn:
        conn.execute(sa.update(checkins).where(checkins.c.id == 2).values(station="ST-X"))
    assert any("do not match" in p for p in verify_audit(engine).problems)
    with engine.begin() as conn:
        conn.execute(sa.update(checkins).where(checkins.c.id == 2).values(station="ST-1"))
    assert verify_audit(engine).ok
    with engine.begin() as conn:
        conn.execute(sa.delete(checkins).where(checkins.c.id == 5))
    assert not verify_audit(engine).ok


def test_a_removed_audit_row_breaks_the_chain(db_url: str) -> None:
    engine = open_store(db_url)
    _traffic(engine)
    with engine.begin() as conn:
        conn.execute(sa.delete(ledger_audit).where(ledger_audit.c.id == 2))
    problems = verify_audit(engine).problems
    assert any("chain is broken" in p for p in problems)
    assert any("covered by the audit" in p for p in problems)


def test_audit_command(tmp_path: object) -> None:
    from pathlib import Path

    from click.testing import CliRunner

    from pollnet.cli import cli

    url = f"sqlite:///{Path(str(tmp_path)) / 'audit.db'}"
    engine = open_store(url)
    _traffic(engine)
    result = CliRunner().invoke(cli, ["--db", url, "--lang", "en", "audit"])
    assert result.exit_code == 0, result.output
    assert "audit intact: 14 batches, 13 check-ins, 1 conflicts" in result.output
    with engine.begin() as conn:
        conn.execute(sa.delete(checkins).where(checkins.c.id == 1))
    result = CliRunner().invoke(cli, ["--db", url, "--lang", "en", "audit"])
    assert "covered by the audit" in str(result.exception)

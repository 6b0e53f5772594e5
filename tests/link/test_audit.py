"""The ledger's hash-chained audit: intact after real traffic, and any tampering shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.errors import UserError
from pollnet.link import pki
from pollnet.link.anchor import HeadAnchor, read_head, sign_head, write_head
from pollnet.link.audit import Checkpoint, verify_audit
from pollnet.link.ledger import Ledger
from pollnet.store import open_store
from pollnet.store.schema.link import checkin_conflicts, checkins, ledger_audit
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


def _problems(engine: sa.Engine, checkpoints: Sequence[Checkpoint] = ()) -> list[str]:
    return [p.render("en") for p in verify_audit(engine, checkpoints).problems]


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
    assert any("do not match" in p for p in _problems(engine))
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
    problems = _problems(engine)
    assert any("chain is broken" in p for p in problems)
    assert any("covered by the audit" in p for p in problems)


def test_audit_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = open_store(url)
    _traffic(engine)
    head = tmp_path / "no-head.txt"
    result = CliRunner().invoke(cli, ["--db", url, "--lang", "en", "audit"], env=_env(head))
    assert result.exit_code == 0, result.output
    assert f"no signed head at {head}" in result.output
    assert "audit intact: 14 batches, 13 check-ins, 1 conflicts" in result.output
    with engine.begin() as conn:
        conn.execute(sa.delete(checkins).where(checkins.c.id == 1))
    result = CliRunner().invoke(cli, ["--db", url, "--lang", "en", "audit"], env=_env(head))
    assert "covered by the audit" in str(result.exception)


def _env(head: Path) -> dict[str, str]:
    settings = head.with_name("settings.toml")
    settings.write_text(f'[link]\nhead_file = "{head}"\npki_dir = "{head.parent / "pki"}"\n')
    return {"POLLNET_CONFIG": str(settings)}


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        (checkins, "election", "another-election"),
        (checkins, "device_time", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        (checkins, "provisional_at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        (checkins, "card_read", False),
        (checkins, "fingerprint_score", 0.61),
        (checkin_conflicts, "election", "another-election"),
        (checkin_conflicts, "first_checkin_id", 3),
        (checkin_conflicts, "fingerprint_score", 0.5),
        (ledger_audit, "recorded_at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
    ],
)
def test_every_column_is_covered(db_url: str, table: sa.Table, column: str, value: object) -> None:
    """Editing any column of a ledger row (e.g. a check-in's election: a second vote) shows."""
    engine = open_store(db_url)
    _traffic(engine)
    assert verify_audit(engine).ok
    with engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.id == 1).values({column: value}))
    assert any("do not match" in p for p in _problems(engine)), (table.name, column)


def test_a_row_of_the_old_format_still_verifies(db_url: str) -> None:
    """Batches written before link_0004 (format 1) verify as they were digested."""
    from pollnet.link import audit

    engine = open_store(db_url)
    _traffic(engine)
    with engine.begin() as conn:
        first = conn.execute(sa.select(ledger_audit).where(ledger_audit.c.id == 1)).one()
        row = conn.execute(sa.select(checkins).where(checkins.c.id == first.first_checkin)).one()
        old = audit.digest([audit.row_line("checkin", row._mapping, 1)])
        conn.execute(
            sa.update(ledger_audit)
            .where(ledger_audit.c.id == 1)
            .values(format=1, digest=old, chain=audit.chain_next(audit.GENESIS, old))
        )
    # Rewriting a batch breaks the chain after it (that is the point of the chain) ...
    assert _problems(engine) == ["batch 2: the chain is broken"]
    # ... and a format-1 batch after a format-2 one is a downgrade.
    with engine.begin() as conn:
        conn.execute(sa.update(ledger_audit).where(ledger_audit.c.id == 3).values(format=1))
    assert any("unknown audit format 1" in p for p in _problems(engine))


def _anchored(tmp_path: Path, db_url: str) -> tuple[sa.Engine, Checkpoint]:
    engine = open_store(db_url)
    _traffic(engine)
    pki.init_pki(tmp_path / "pki", election_date=dt.date.today())
    key = pki.head_signing_key(tmp_path / "pki")
    with Ledger(engine, "e1") as ledger:
        anchor = HeadAnchor(tmp_path / "head.txt", key, lambda: ledger.head, interval_s=60)
        anchor.start()
        ledger.record(_checkin(national_code(41)))
    anchor.stop()  # signs the last head
    return engine, read_head(tmp_path / "head.txt", pki.head_public_key(tmp_path / "pki"))


def test_truncating_the_last_batches_shows_against_the_signed_head(
    tmp_path: Path, db_url: str
) -> None:
    engine, head = _anchored(tmp_path, db_url)
    assert head.size == 15
    assert verify_audit(engine, [head]).ok and verify_audit(engine, [head]).anchored == 15
    with engine.begin() as conn:  # cut off the last batches, their rows and audit rows
        conn.execute(sa.delete(checkins).where(checkins.c.id >= 13))
        conn.execute(sa.delete(ledger_audit).where(ledger_audit.c.id >= 14))
    assert verify_audit(engine).ok  # the chain alone cannot see it
    problems = _problems(engine, [head])
    assert len(problems) == 1 and "vouches for 15 batches but the ledger holds 13" in problems[0]


def test_a_rewritten_chain_shows_against_the_signed_head(tmp_path: Path, db_url: str) -> None:
    from pollnet.link import audit

    engine, head = _anchored(tmp_path, db_url)
    # Edit a check-in and recompute every digest and chain value after it: invisible to the
    # chain, not to the anchor.
    with engine.begin() as conn:
        conn.execute(sa.update(checkins).where(checkins.c.id == 2).values(election="e2"))
    problems = _problems(engine, [head])
    assert any("do not match" in p for p in problems)
    _rechain(engine)
    assert verify_audit(engine).ok
    problems = _problems(engine, [head])
    assert problems == [
        "pollnet ledger (head.txt) vouches for another chain after 15 batches:"
        " the chain was rewritten"
    ]
    assert audit.FORMAT == 2


def _rechain(engine: sa.Engine) -> None:
    from pollnet.link import audit

    with engine.begin() as conn:
        previous = audit.GENESIS
        for row in conn.execute(sa.select(ledger_audit).order_by(ledger_audit.c.id)).all():
            lines = [audit.batch_line(row._mapping)]
            lines += [
                audit.row_line("checkin", r._mapping)
                for r in conn.execute(
                    sa.select(checkins)
                    .where(checkins.c.id.between(row.first_checkin, row.last_checkin))
                    .order_by(checkins.c.id)
                )
            ]
            lines += [
                audit.row_line("conflict", r._mapping)
                for r in conn.execute(
                    sa.select(checkin_conflicts)
                    .where(checkin_conflicts.c.id.between(row.first_conflict, row.last_conflict))
                    .order_by(checkin_conflicts.c.id)
                )
            ]
            new = audit.digest(lines)
            previous = audit.chain_next(previous, new)
            conn.execute(
                sa.update(ledger_audit)
                .where(ledger_audit.c.id == row.id)
                .values(digest=new, chain=previous)
            )


def test_a_forged_or_foreign_head_is_refused(tmp_path: Path) -> None:
    pki.init_pki(tmp_path / "pki", election_date=dt.date.today())
    pki.init_pki(tmp_path / "other", election_date=dt.date.today())
    mine = pki.head_signing_key(tmp_path / "pki")
    theirs = pki.head_signing_key(tmp_path / "other")
    assert (tmp_path / "pki" / "head.key").stat().st_mode & 0o777 == 0o600
    now = dt.datetime.now(dt.UTC)
    write_head(tmp_path / "head.txt", sign_head(theirs, 3, "a" * 64, now))
    with pytest.raises(UserError, match="does not verify"):
        read_head(tmp_path / "head.txt", pki.head_public_key(tmp_path / "pki"))
    note = sign_head(mine, 3, "a" * 64, now)
    write_head(tmp_path / "head.txt", note.replace(b"\n3\n", b"\n9\n"))
    with pytest.raises(UserError, match="does not verify"):
        read_head(tmp_path / "head.txt", pki.head_public_key(tmp_path / "pki"))
    write_head(tmp_path / "head.txt", note)
    head = read_head(tmp_path / "head.txt", pki.head_public_key(tmp_path / "pki"))
    assert (head.size, head.head) == (3, "a" * 64)


def test_audit_command_with_the_signed_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine, _head = _anchored(tmp_path, url)
    args = ["--db", url, "--lang", "en", "audit", "--pki", str(tmp_path / "pki")]
    result = CliRunner().invoke(cli, [*args, "--head", str(tmp_path / "head.txt")])
    assert result.exit_code == 0, result.output
    assert "signed head: 15 batches, matches the ledger" in result.output
    with engine.begin() as conn:
        conn.execute(sa.delete(checkins).where(checkins.c.id == 14))
        conn.execute(sa.delete(ledger_audit).where(ledger_audit.c.id == 15))
    result = CliRunner().invoke(cli, [*args, "--head", str(tmp_path / "head.txt")])
    assert isinstance(result.exception, UserError)
    assert "its last batches were removed" in str(result.exception)

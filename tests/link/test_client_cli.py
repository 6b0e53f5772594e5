"""``pollnet device run``: voters as JSON lines in, answers out, against the real service."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from pollnet.cli import cli
from pollnet.i18n import to_jalali, to_persian_digits
from pollnet.link import pki
from pollnet.link.service import RunningService, start_in_thread
from pollnet.store import open_store
from tests.link.service_helpers import make_pki, national_code, policy


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, RunningService]]:
    pki_dir = make_pki(tmp_path / "pki", {})
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    service = start_in_thread(engine, pki_dir, policy(), heartbeat_seconds=1.0)
    try:
        yield pki_dir, service
    finally:
        service.stop()
        engine.dispose()


def device_run(bundle: Path, lines: list[str], *options: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["--lang", "en", "device", "run", "--bundle", str(bundle), *options],
        input="".join(line + "\n" for line in lines),
    )


def voter_line(n: int, **changes: object) -> str:
    body: dict[str, object] = {
        "national_code": national_code(n),
        "birth_date": "1370/01/15",
        "card_read": True,
        "fingerprint_score": 0.9,
    }
    body.update(changes)
    return json.dumps(body)


def test_device_run_prints_each_answer(
    running: tuple[Path, RunningService], tmp_path: Path
) -> None:
    pki_dir, service = running
    bundle = pki.enroll_device(
        pki_dir, "ST-9", "CLI-1", tmp_path / "bundle", endpoints={"fiber": service.url}
    )
    lines = [voter_line(1), voter_line(1), "not json", voter_line(2, card_read="yes")]
    done = device_run(bundle, lines, "--json")
    assert done.exit_code == 1  # two lines could not be read
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(a["row"], a["outcome"], a["link"]) for a in answers] == [
        (1, "accepted", "fiber"),
        (2, "duplicate", "fiber"),
    ]
    assert answers[1]["answer"]["first"]["station"] == "ST-9"
    assert "row 3: not a voter line (JSON)" in done.stderr
    assert "row 4: not a voter line (card_read)" in done.stderr
    assert national_code(1) not in done.stdout + done.stderr
    # In Persian: Persian digits, and when the voter voted as a Jalali date in Tehran time.
    persian = CliRunner().invoke(
        cli, ["--lang", "fa", "device", "run", "--bundle", str(bundle)], input=voter_line(1)
    )
    first_at = dt.datetime.fromisoformat(answers[1]["answer"]["first"]["at"])
    day = to_persian_digits(to_jalali(first_at.astimezone(ZoneInfo("Asia/Tehran")).date()))
    assert persian.stdout.startswith("ردیف ۱: ") and "ST-9" in persian.stdout
    assert day in persian.stdout
    fresh = CliRunner().invoke(
        cli, ["--lang", "fa", "device", "run", "--bundle", str(bundle)], input=voter_line(5)
    )
    assert fresh.stdout.strip() == "ردیف ۱: پذیرفته شد از راه فیبر"  # the link named in Persian
    assert "ارتباط: فیبر" in fresh.stderr


def test_device_run_refuses_when_no_link_answers(
    running: tuple[Path, RunningService], tmp_path: Path
) -> None:
    pki_dir, _service = running
    bundle = pki.enroll_device(
        pki_dir, "ST-9", "CLI-2", tmp_path / "bundle", endpoints={"fiber": "https://127.0.0.1:9"}
    )
    done = device_run(bundle, [voter_line(3)], "--policy", "refuse")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.strip() == "row 1: no link to the service: refuse the voter for now"


def test_device_close_day_erases_the_voter_hashes(
    running: tuple[Path, RunningService], tmp_path: Path
) -> None:
    from pollnet.link.queue import DurableQueue

    pki_dir, service = running
    bundle = pki.enroll_device(
        pki_dir, "ST-9", "CLI-3", tmp_path / "bundle", endpoints={"fiber": service.url}
    )
    result = device_run(bundle, [voter_line(11), voter_line(12)])
    assert result.exit_code == 0, result.output
    assert (bundle / "queue.db").stat().st_mode & 0o777 == 0o600
    with DurableQueue(bundle / "queue.db", pki.queue_key(bundle)) as queue:
        assert all(i.voter_hash for i in queue.items())
    closed = CliRunner().invoke(
        cli, ["--lang", "en", "device", "close-day", "--bundle", str(bundle)]
    )
    assert closed.exit_code == 0, closed.output
    assert "day closed: 2 voter hashes erased" in closed.output
    with DurableQueue(bundle / "queue.db", pki.queue_key(bundle)) as queue:
        assert [i.voter_hash for i in queue.items()] == [None, None]
        assert [i.outcome for i in queue.items()] == ["accepted", "accepted"]


def test_device_run_tells_the_operator_what_became_of_a_lost_check_in(
    running: tuple[Path, RunningService], tmp_path: Path
) -> None:
    """A check-in the device was sending when it stopped is asked about, and the answer shown."""
    from pollnet.link.queue import DurableQueue

    pki_dir, service = running
    bundle = pki.enroll_device(
        pki_dir, "ST-9", "CLI-4", tmp_path / "bundle", endpoints={"fiber": service.url}
    )
    body = json.loads(voter_line(13))
    body.update(device_time=dt.datetime.now(dt.UTC).isoformat(), provisional_at=None)
    with DurableQueue(bundle / "queue.db", pki.queue_key(bundle)) as queue:
        lost = queue.put(body, voter_hash=None)
    result = device_run(bundle, [])
    assert result.exit_code == 0, result.output
    assert (
        f"queued {lost.idempotency_key}: the lost check-in was never recorded:"
        " check the voter in again"
    ) in result.output

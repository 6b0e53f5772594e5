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

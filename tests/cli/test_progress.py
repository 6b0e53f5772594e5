"""Commands that take a while show progress on a terminal's stderr, and nothing on a pipe."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from pollnet import demo
from pollnet.settings import Settings

# command -> what its progress says (English)
SLOW = {
    ("readiness", "--today", "2026-11-01"): "Forecasting the work orders",
    ("report", "weekly", "--out", "reports", "--today", "2026-11-01"): "Writing the XLSX workbook",
    ("work", "list"): "Loading the work orders",
    ("coverage",): "Estimating the stations' LTE backup",
    ("stations", "export", "stations.xlsx"): "Exporting stations",
    ("status",): "Reading the devices' heartbeats",
    (
        *("simulate", "--stations", "1", "--devices-per-station", "1"),
        *("--voters", "10", "--duration", "1", "--json"),
    ): "Simulating a polling day of 1.0 s",
}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("progress") / "demo"
    built = demo.run(folder, Settings(lang="en"), stations=40)
    done = subprocess.run(
        [sys.executable, "-m", "pollnet", "--db", built.db_url, "work", "generate"],
        capture_output=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return folder


def run_with_terminal_stderr(
    args: list[str], cwd: Path, env: dict[str, str]
) -> tuple[int, bytes, bytes]:
    """Run pollnet with stderr on a pseudo-terminal; returns (exit code, stdout, terminal)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pollnet", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    terminal = b""
    while True:  # read the terminal while the command runs, so that it never blocks on it
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the command closed its end
                break
            if not chunk:
                break
            terminal += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    out, _ = process.communicate(timeout=600)  # reads stdout to its end and closes it
    return process.returncode, out, terminal


@pytest.mark.parametrize("args", list(SLOW), ids=lambda a: " ".join(a[:2]))
def test_progress_on_a_terminal_only(args: tuple[str, ...], city: Path, tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "POLLNET_DB": f"sqlite:///{city / 'pollnet.db'}",
        "POLLNET_LANG": "en",
    }
    code, out, terminal = run_with_terminal_stderr(list(args), tmp_path, env)
    assert code == 0, terminal.decode(errors="replace")
    assert SLOW[args] in terminal.decode(errors="replace")
    if "--json" in args:
        json.loads(out)  # stdout stays one JSON document
    piped = subprocess.run(
        [sys.executable, "-m", "pollnet", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert piped.returncode == 0 and piped.stderr == ""

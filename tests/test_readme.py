"""The README's commands run as written, in order, on a fresh folder.

Every ``sh`` block of README.md is a step of one session: the set-up block's ``bash
scripts/demo.sh`` runs the demo command that script runs (after installing, which this test does
not repeat) and ``bash scripts/test.sh`` is this suite itself; every other line runs through bash
exactly as written, with the environment the README's ``export`` lines build. A line ending in
``&`` (a server) runs in the background; the session goes on once it listens, as a user would
wait for it, and it is stopped at the end. The only change to the text: the fixed ports 8443 and
8080 become free ports, so that parallel test runs cannot collide.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from pollnet.store import create_engine
from pollnet.store.schema import link
from tests.pgserver import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FIXED_PORTS = ("8443", "8080")


def sh_blocks(text: str) -> list[list[str]]:
    """The ``sh`` blocks of a Markdown text: their commands (continuations joined, comments and
    blank lines dropped)."""
    blocks = []
    for body in re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        commands: list[str] = []
        pending = ""
        for raw in body.splitlines():
            line = re.sub(r"\s+#\s.*$", "", raw).rstrip()
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                pending += line[:-1]
                continue
            commands.append((pending + line).strip())
            pending = ""
        blocks.append(commands)
    return blocks


def demo_command() -> str:
    """The pollnet command ``scripts/demo.sh`` runs once pollnet is installed."""
    last = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert last.startswith(".venv/bin/pollnet demo ") and last.endswith(' "$@"'), last
    return last.removeprefix(".venv/bin/").removesuffix(' "$@"')


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server stopped with {process.returncode}"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port} after {timeout_s} s")


def test_the_readme_runs_as_written(tmp_path: Path) -> None:
    blocks = sh_blocks(README.read_text(encoding="utf-8"))
    setup, *rest = blocks
    assert setup == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    commands = [demo_command()] + [command for block in rest for command in block]
    ports = {fixed: str(free_port()) for fixed in FIXED_PORTS}
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    background: list[subprocess.Popen[bytes]] = []
    outputs: dict[str, str] = {}
    try:
        for command in commands:
            for fixed, port in ports.items():
                command = command.replace(fixed, port)
            if command.startswith("export "):
                name, _, value = command.removeprefix("export ").partition("=")
                env[name] = shlex.split(value)[0]
                continue
            if command.endswith("&"):
                log = (tmp_path / f"background-{len(background)}.log").open("wb")
                server = subprocess.Popen(
                    ["bash", "-c", command.removesuffix("&").strip()],
                    cwd=tmp_path,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                background.append(server)
                port = next(int(p) for p in ports.values() if p in command)
                wait_for_port(port, server)
                continue
            done = subprocess.run(
                ["bash", "-c", f"set -o pipefail; {command}"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stderr, command
            outputs[command] = done.stdout
    finally:
        for server in background:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()

    # the demo's data was there for every command after it, and the day's check-in landed
    listed = next(out for command, out in outputs.items() if "stations list" in command)
    assert {s["district"] for s in json.loads(listed)} == {6}
    simulated = next(out for command, out in outputs.items() if "simulate" in command)
    assert json.loads(simulated)["lost"] == 0
    engine = create_engine(env["POLLNET_DB"].replace("///", f"///{tmp_path}/", 1))
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(link.checkins)) == 1
    engine.dispose()
    assert (tmp_path / "reports").is_dir() and any((tmp_path / "reports").iterdir())

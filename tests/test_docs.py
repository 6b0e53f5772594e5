"""The README's commands run as written, in order, on a fresh folder; the docs' examples are the
demo's real output.

**README.**
Every ``sh`` block of README.md is a step of one session: the set-up block's ``bash
scripts/demo.sh`` runs the demo command that script runs (after installing, which this test does
not repeat) and ``bash scripts/test.sh`` is this suite itself; a block fenced ``sh (with your
own … file)`` needs a file the demo does not make and is not run; every other line runs through bash
exactly as written, with the environment the README's ``export`` lines build. A line ending in
``&`` (a server) runs in the background; the session goes on once it listens, as a user would
wait for it, and it is stopped at the end. The only change to the text: the fixed ports 8443 and
8080 become free ports, so that parallel test runs cannot collide.

**Docs.** Each ``console`` block of the pages in :data:`CHECKED_DOCS` is run, in the page's order,
on a fresh copy of the demo's folder (``pollnet-demo/``, 1,000 stations, with
``POLLNET_DB=sqlite:///pollnet-demo/pollnet.db``): every ``$ `` line is a command, the lines after
it its expected output (stdout, then stderr). A ``...`` line stands for any number of lines, ``…``
inside a line for any text. Plain ````` blocks are not run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from pollnet import demo
from pollnet.settings import Settings
from pollnet.store import create_engine
from pollnet.store.schema import link
from tests.pgserver import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FIXED_PORTS = ("8443", "8080")
CHECKED_DOCS = ("docs/plan.md", "docs/rollout.md", "docs/coverage.md", "docs/sites.md")


def sh_blocks(text: str) -> list[list[str]]:
    """The ``sh`` blocks of a Markdown text: their commands (continuations joined, comments and
    blank lines dropped)."""
    blocks = []
    for body in re.findall(
        r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL
    ):  # not "```sh (with your own … file)"
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
                with (tmp_path / f"background-{len(background)}.log").open("wb") as log:
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


def console_examples(text: str) -> list[tuple[str, list[str]]]:
    """The ``$ `` commands of a Markdown text's ``console`` blocks with their expected lines."""
    examples: list[tuple[str, list[str]]] = []
    for body in re.findall(r"^```console\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        for line in body.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            else:
                assert examples, f"output before any command: {line}"
                examples[-1][1].append(line.rstrip())
    return examples


def matches(expected: list[str], actual: list[str]) -> bool:
    """``actual`` fits ``expected``, where a ``...`` line is any lines and ``…`` any text."""
    if not expected:
        return not actual
    first, rest = expected[0], expected[1:]
    if first.strip() == "...":
        return any(matches(rest, actual[i:]) for i in range(len(actual) + 1))
    pattern = ".*".join(re.escape(part) for part in first.split("…"))
    return (
        bool(actual) and re.fullmatch(pattern, actual[0]) is not None and matches(rest, actual[1:])
    )


def test_matching_of_expected_output() -> None:
    assert matches(["a", "...", "d …"], ["a", "b", "c", "d 42"])
    assert matches(["a", "..."], ["a"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a …"], ["b 1"])


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs") / "pollnet-demo"
    demo.run(folder, Settings(lang="en"))
    return folder


@pytest.mark.parametrize("page", CHECKED_DOCS)
def test_the_docs_examples_are_the_demos_real_output(
    page: str, demo_folder: Path, tmp_path: Path
) -> None:
    examples = console_examples((ROOT / page).read_text(encoding="utf-8"))
    assert examples
    shutil.copytree(demo_folder, tmp_path / "pollnet-demo")
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "POLLNET_DB": "sqlite:///pollnet-demo/pollnet.db",
    }
    for command, expected in examples:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert "Traceback" not in done.stderr, command
        actual = [line.rstrip() for line in (done.stdout + done.stderr).splitlines()]
        assert matches(expected, actual), (
            f"{page}: $ {command}\nwritten:\n"
            + "\n".join(expected)
            + "\nreal:\n"
            + "\n".join(actual)
        )


def test_the_api_quick_start_runs_as_written(tmp_path: Path) -> None:
    """docs/api.md's example prints what the page says; given a pollnet.toml, its [rollout]
    table reaches rollout.load_config."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    (printed,) = re.findall(r"^```text\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    (tmp_path / "quickstart.py").write_text(code, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def run(folder: Path) -> str:
        done = subprocess.run(
            [sys.executable, str(tmp_path / "quickstart.py")],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    plain = tmp_path / "plain"
    plain.mkdir()
    assert run(plain) == printed
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "pollnet.toml").write_text(
        "[rollout.templates.lte_sim]\nenabled = false\n", encoding="utf-8"
    )
    assert "689 work orders for 60 stations" in run(configured)


def test_only_blocks_that_need_the_users_own_files_are_not_run() -> None:
    fences = re.findall(r"^```sh(.*)$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert fences.count("") >= 6
    for fence in fences:
        assert fence == "" or re.fullmatch(r" \(with your own .+ file\)", fence), fence

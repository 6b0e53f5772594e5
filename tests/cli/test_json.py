"""``--json``: every command prints ONE JSON document (an array or an object) on stdout."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from pollnet import demo
from pollnet.cli import LAZY_COMMANDS, cli, main
from pollnet.cluster.local import ClusterLayout
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.store.bulk import insert_many
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle, note
from pollnet.tlog.http import RunningPublic, start_public
from pollnet.tlog.publisher import Publisher
from tests.areas.conftest import districts_file

SAMPLES = Path(__file__).parents[2] / "docs" / "samples"
STREAMING = {"device run"}
"""Commands whose ``--json`` is a stream, one object per line (a device runs all day)."""


def commands_with_json() -> set[str]:
    found: set[str] = set()

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        if any("--json" in p.opts for p in command.params):  # a group may answer too
            found.add(" ".join(path))

    for name in LAZY_COMMANDS:
        walk(cli.get_command(None, name), (name,))  # type: ignore[arg-type]
    return found


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("json") / "demo"
    demo.run(folder, Settings(lang="en"), stations=40)
    return folder


def test_every_json_option_prints_one_document(
    city: Path,
    cluster: ClusterLayout,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.osm").write_text(
        '<osm version="0.6"><node id="1" version="1" lat="35.7" lon="51.4">'
        '<tag k="amenity" v="school"/></node></osm>',
        encoding="utf-8",
    )
    monkeypatch.setenv("POLLNET_DB", f"sqlite:///{city / 'pollnet.db'}")
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)
    data = city / "data"
    station = (data / "stations.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    runs: dict[str, list[str]] = {
        "demo": ["demo", "--out", str(tmp_path / "d"), "--stations", "20"],
        "stations import": ["stations", "import", str(data / "stations.csv")],
        "stations list": ["stations", "list"],
        "stations show": ["stations", "show", station],
        "streets import": ["streets", "import", str(data / "streets.geojson"), "--out", "s.npz"],
        "streets info": ["streets", "info", str(city / "streets.npz")],
        "plan": ["plan", "--streets", str(city / "streets.npz")],
        "towers import": ["towers", "import", str(data / "towers.csv")],
        "coverage": ["coverage"],
        "coverage plan-cells": ["coverage", "plan-cells"],
        "sites review": ["sites", "review", "--streets", str(city / "streets.npz")],
        "sites candidates": ["sites", "candidates", "--osm", "s.osm", "--out", "schools.csv"],
        "synth": ["synth", "--stations", "5", "--out", str(tmp_path / "synth")],
        "work generate": ["work", "generate", "--today", "2026-11-01"],
        "work list": ["work", "list"],
        "work import": ["work", "import", "sheet.xlsx", "--agency", "municipality"],
        "work history": ["work", "history"],
        "schedule": ["schedule", "--today", "2026-11-01"],
        "readiness": ["readiness", "--today", "2026-11-01"],
        "status": ["status"],
        "cluster status": ["cluster", "status", "--dir", str(cluster.folder)],
        "devices list": ["devices", "list", "--dir", "pki"],
        "areas import": ["areas", "import", "areas.geojson"],
        "areas list": ["areas", "list"],
        "users list": ["users", "list"],
        "areas show": ["areas", "show", "municipal_district", "7"],
        "areas export": ["areas", "export", "areas-out.geojson"],
        "exchanges import": ["exchanges", "import", str(SAMPLES / "exchanges-en.csv")],
        "exchanges list": ["exchanges", "list"],
        "exchanges show": ["exchanges", "show", "EX-ENG"],
        "fiber import": ["fiber", "import", str(SAMPLES / "fiber-en.csv")],
        "fiber list": ["fiber", "list"],
        "fiber show": ["fiber", "show", "F-ENG-1"],
        "simulate": [
            *("simulate", "--stations", "1", "--devices-per-station", "1"),
            *("--voters", "20", "--duration", "1"),
        ],
    }
    public = _public_log(tmp_path)
    runs["observe verify"] = ["observe", "verify", "--log", public.url, "--policy", "policy"]
    runs["observe verify"] += ["--state", "observer"]
    assert set(runs) | STREAMING == commands_with_json()

    def run(*args: str) -> str:
        with pytest.raises(SystemExit) as done:
            main(["--lang", "en", *args])
        out, err = capsys.readouterr()
        assert done.value.code == 0, (args, err)
        return out

    try:
        _run_all(runs, run, tmp_path, station)
    finally:
        public.stop()


def _public_log(tmp_path: Path) -> RunningPublic:
    """A small transparency log served on 127.0.0.1, and a policy file that trusts it."""
    engine = open_store(f"sqlite:///{tmp_path / 'tlog.db'}")
    with engine.begin() as conn:
        leaves = []
        for i in range(3):
            data = entries.encode(
                entries.Entry(
                    "e", "ST-1", "D-1", dt.datetime.now(dt.UTC), "accepted", bytes([i]) * 32
                )
            )
            leaves.append((i, data, merkle.leaf_hash(data)))
        insert_many(conn, "tlog_entries", ("idx", "entry", "leaf_hash"), leaves)
    signer = note.Signer.generate("test.example/log")
    publisher = Publisher(engine, signer)
    publisher.step()
    (tmp_path / "policy").write_text(f"log {signer.verifier.vkey}\nquorum none\n")
    return start_public(publisher)


def _run_all(
    runs: dict[str, list[str]], run: Callable[..., str], tmp_path: Path, station: str
) -> None:
    for name, args in runs.items():
        if name == "areas import":
            districts_file(tmp_path / "areas.geojson")
        if name == "work import":
            run("work", "export", "--agency", "municipality", "--out", "sheet.xlsx")
        if name == "devices list":
            run("pki", "init", "--dir", "pki")
            run("devices", "enroll", "--dir", "pki", "--station", station, "--serial", "D-1")
        out = run(*args, "--json")
        document = json.loads(out)  # one document: anything more fails to parse
        assert isinstance(document, (list, dict)), name
        if name in {
            *("stations list", "work list", "work history", "devices list", "areas list"),
            *("exchanges list", "fiber list"),
        }:
            assert isinstance(document, list) and document, name

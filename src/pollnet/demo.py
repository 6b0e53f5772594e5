"""The main job on the bundled data: a fresh database in a folder, filled, planned, reported.

The bundled data is the deterministic synthetic city (:mod:`pollnet.datasets`): its station file
goes through the registry exactly as an agency's spreadsheet would, its streets become the street
cache, and its exchanges, towers and existing fiber go into the store. Then the fiber network is
planned and stored, the plan's report, map and per-agency work lists are written, and every
station's LTE backup is estimated from the towers (``coverage.csv``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pollnet import coverage, datasets, plan, registry, streets
from pollnet.errors import UserError
from pollnet.plan.outputs import write_all
from pollnet.settings import Settings
from pollnet.store import open_store

DEMO_STATIONS = 1000
DEMO_SEED = 1402
STAGES = (
    "generating the synthetic city",
    "importing the station file",
    "loading exchanges, towers and fiber",
    "building the street graph",
    "planning the fiber network",
    "writing the plan's report and work lists",
    "estimating the stations' LTE backup",
)
"""The demo's stages in order (English msgids, reported to ``on_stage``)."""

MARKER = ".pollnet-demo"
"""The file that marks a folder as built by the demo: only such a folder is ever emptied."""


@dataclass(frozen=True)
class DemoResult:
    """What the demo built: where, how much, and how long each stage took (seconds)."""

    folder: Path
    db_url: str
    counts: dict[str, int]
    files: dict[str, Path]
    seconds: dict[str, float] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    lte_backup: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "db": self.db_url,
            "counts": self.counts,
            "files": {name: str(path) for name, path in self.files.items()},
            "seconds": {stage: round(s, 3) for stage, s in self.seconds.items()},
            "plan": self.plan,
            "lte_backup": self.lte_backup,
        }


def run(
    folder: Path,
    settings: Settings,
    *,
    stations: int = DEMO_STATIONS,
    seed: int = DEMO_SEED,
    on_stage: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the demo in ``folder`` (see :func:`prepare_folder`): synthetic city, registry,
    streets, store.

    ``settings`` supplies the language and validation rules; the database is always a fresh
    SQLite file ``folder/pollnet.db``.
    """
    report = on_stage or (lambda _stage: None)
    seconds: dict[str, float] = {}

    def stage(name: str) -> None:
        report(name)
        seconds[name] = time.perf_counter()

    prepare_folder(folder)
    db_url = f"sqlite:///{folder.resolve() / 'pollnet.db'}"
    settings = settings.with_overrides(db_url=db_url)

    stage(STAGES[0])
    city = datasets.generate(stations, seed)
    files = datasets.write(city, folder / "data")

    stage(STAGES[1])
    engine = open_store(db_url)
    imported = registry.import_stations(engine, files["stations-fa.csv"], settings=settings)

    stage(STAGES[2])
    loaded = datasets.load_into(engine, city)

    stage(STAGES[3])
    graph = streets.from_city(city)
    files["streets_cache"] = streets.save(graph, folder / "streets.npz")

    stage(STAGES[4])
    network = plan.run(engine, settings, streets=files["streets_cache"])

    stage(STAGES[5])
    outputs = write_all(network, graph, folder / "plan", settings.lang, stations=city.stations)
    files.update({f"plan:{name}": path for name, path in outputs.items()})

    stage(STAGES[6])
    radio = coverage.RadioSettings.from_mapping(settings.section("coverage"), settings.source)
    backups = coverage.lte_backup(
        registry.list_stations(engine), coverage.read_towers(engine), radio
    )
    files["coverage"] = coverage.write_backup_csv(
        backups, radio, folder / "coverage.csv", settings.lang
    )
    lte: dict[str, int] = {s: sum(1 for b in backups if b.status == s) for s in coverage.STATUSES}

    end = time.perf_counter()
    starts = list(seconds.items())
    for i, (name, start) in enumerate(starts):
        seconds[name] = (starts[i + 1][1] if i + 1 < len(starts) else end) - start
    engine.dispose()
    counts = {
        "stations": len(imported.added) + len(imported.changed) + len(imported.unchanged),
        "sites": len({s.site for s in city.stations}),
        "street_nodes": int(graph.num_nodes),
        "street_edges": int(graph.num_edges),
        **loaded,
    }
    return DemoResult(folder, db_url, counts, files, seconds, network.summary(), lte)


def prepare_folder(folder: Path) -> None:
    """Make ``folder`` ready for a fresh demo, deleting nothing the demo did not make.

    A missing or empty folder is used as it is; a folder that holds the demo's :data:`MARKER`
    (an earlier demo) is emptied; any other folder is refused, untouched. The marker is written
    first, so that an interrupted demo can be run again in the same folder.
    """
    if folder.exists() and not folder.is_dir():
        raise UserError.of("{folder} is a file, not a folder", folder=str(folder))
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise UserError.of(
                "{folder} is not empty and was not made by pollnet demo: nothing was changed; "
                "choose a new or empty folder with --out",
                folder=str(folder),
            )
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(
        "Made by pollnet demo: the next demo in this folder empties it first.\n", encoding="utf-8"
    )

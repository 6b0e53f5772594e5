"""Fuzz every import (stations, towers, work status sheets) on SQLite and PostgreSQL.

Any file, as CSV in several encodings, as XLSX (also a broken one), as GeoJSON or as random
bytes, ends in a clean result or a :class:`UserError` whose every line names the file; never
a traceback, never a database error. The cells mix plausible values with the hostile ones of
issue 15 (huge numbers, NUL and control characters, look-alike and bidi characters, formulas,
cells longer than any column, impossible dates).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.engine import Engine

from pollnet.coverage.towers import import_towers
from pollnet.errors import UserError
from pollnet.registry import import_stations
from pollnet.rollout import generate
from pollnet.rollout import store as rollout_store
from pollnet.rollout.sheets import read_updates
from pollnet.settings import Settings
from pollnet.store import open_store
from tests.registry.stationfiles import EN, FA, GOOD
from tests.rollout.plans import two_stations

SETTINGS = Settings()
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
ORDERS = generate(two_stations())

_HOSTILE = st.sampled_from(
    [
        "", " ", "0", "-1", "1" * 19, "9" * 5000, str(2**31), str(2**63), "1e400", "nan", "inf",
        "35.7", "51.4", "-19.5", "۱۲۰۰", "٣٥٫٧", "1,200", "yes", "بله", "lte", "4g", "432", "11",
        "\x00", "a\x00b", "\x1b[31m", "\u202eT-001", "Т-001", "T-001", "ت-۰۰۱", "\u200c",
        "=cmd|' /C calc'!A0", "'=x", "@SUM(1)", "+1", '"', "\r", "\n", "x" * 600,
        "2026-11-20", "1405/08/20", "0001-01-01", "9999-12-31", "1405/13/40",
        "done", "در حال انجام", "planned", *(o.id for o in list(ORDERS)[:3]),
    ]
)  # fmt: skip
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_CELL = st.one_of(_HOSTILE, _TEXT)
_OPENCELLID = ["radio", "mcc", "net", "area", "cell", "unit", "lon", "lat"]
KINDS: dict[str, tuple[list[list[str]], list[list[str]]]] = {
    "stations": ([EN, FA], [list(r) for r in GOOD]),
    "towers": (
        [["code", "operator", "radio", "lat", "lon", "height_m"], _OPENCELLID],
        [
            ["MCI-1", "MCI", "lte", "35.7", "51.4", "30"],
            ["LTE", "432", "11", "1", "2", "0", "51.4", "35.7"],
        ],
    ),
    "status": (
        [["ID", "Status", "Date", "Measured power (dBm)", "Note"]],
        [[o.id, "done", "2026-11-19", "-19.5", "ok"] for o in list(ORDERS)[:4]],
    ),
}


def _table(kind: str) -> st.SearchStrategy[list[list[str]]]:
    """A header (complete, shuffled, or drawn from the known names and junk), then rows: good
    rows with some cells made hostile, and rows of hostile cells only, ragged."""
    names, good = KINDS[kind]
    header = st.one_of(
        st.permutations(names[0]),
        st.sampled_from(names).map(list),
        st.lists(st.one_of(st.sampled_from([n for h in names for n in h]), _TEXT), max_size=14),
    )

    @st.composite
    def row(draw: st.DrawFn) -> list[str]:
        cells = list(draw(st.sampled_from(good))) if draw(st.booleans()) else []
        for _ in range(draw(st.integers(0, 3))):
            cell = draw(_CELL)
            at = draw(st.integers(0, len(cells)))  # a cell of the row, or one more
            if at < len(cells):
                cells[at] = cell
            else:
                cells.append(cell)
        return cells

    return st.tuples(header, st.lists(row(), max_size=6)).map(lambda t: [list(t[0]), *t[1]])


def _csv(table: list[list[str]], encoding: str, delimiter: str) -> bytes:
    out = io.StringIO()
    import csv

    csv.writer(out, delimiter=delimiter).writerows(table)
    return out.getvalue().encode(encoding, errors="replace")


def _xlsx(table: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in table:
        sheet.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v)[:32000] if isinstance(v, str) else v for v in row]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _geojson(table: list[list[Any]], geometry: Any) -> bytes:
    header, *rows = table or [[]]
    features = [
        {
            "type": "Feature",
            "properties": dict(zip(header, row, strict=False)),
            "geometry": geometry,
        }
        for row in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


_TYPED = st.one_of(
    _CELL,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)
_JSON = st.one_of(
    _CELL,
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.booleans(),
    st.none(),
)
_GEOMETRY = st.one_of(
    st.none(),
    st.just({"type": "Point", "coordinates": [51.4, 35.7]}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Point", "LineString", 1]), "coordinates": st.lists(_JSON)}
    ),
)


@st.composite
def files(draw: st.DrawFn, kind: str) -> tuple[str, bytes]:
    """A file name's suffix and its bytes: some way a user's file can look."""
    table = draw(_table(kind))
    form = draw(st.sampled_from(["csv", "xlsx", "xlsx-typed", "xlsx-broken", "geojson", "bytes"]))
    if form == "csv":
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1256", "utf-16"]))
        return ".csv", _csv(table, encoding, draw(st.sampled_from([",", ";", "\t"])))
    if form == "xlsx":
        return ".xlsx", _xlsx(table)
    if form == "xlsx-typed":
        typed = [table[0], *draw(st.lists(st.lists(_TYPED, max_size=14), max_size=5))]
        return ".xlsx", _xlsx(typed)
    if form == "xlsx-broken":
        data = bytearray(_xlsx(table))
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, 2**20)) % len(data)  # its length varies (time stamps)
            data[at] = draw(st.integers(0, 255))
        return ".xlsx", bytes(data)
    if form == "geojson":
        return ".geojson", _geojson(table, draw(_GEOMETRY))
    return draw(st.sampled_from([".csv", ".xlsx", ".geojson"])), draw(st.binary(max_size=400))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """One database for all of a test's examples; work orders of two stations in it."""
    engine = open_store(db_url)
    rollout_store.save_work_orders(engine, ORDERS, by="fuzz", now=NOW)
    yield engine
    engine.dispose()


def _refused_cleanly(exc: UserError, path: Path) -> None:
    """A refusal is one or more lines, each naming the file, in English and in Persian."""
    lines = exc.render("en")
    assert lines, exc
    assert all(line.startswith(str(path)) for line in lines), lines[:3]
    assert len(exc.render("fa")) == len(lines)


FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(file=files("stations"), skip_invalid=st.booleans())
def test_any_station_file_is_imported_or_refused(
    engine: Engine, file: tuple[str, bytes], skip_invalid: bool
) -> None:
    suffix, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"stations{suffix}"
        path.write_bytes(data)
        try:
            import_stations(
                engine, path, settings=SETTINGS, skip_invalid=skip_invalid,
                rejects=Path(folder) / "rejects.csv",
            )  # fmt: skip
        except UserError as exc:
            _refused_cleanly(exc, path)


@FUZZ
@given(file=files("towers"))
def test_any_tower_file_is_imported_or_refused(engine: Engine, file: tuple[str, bytes]) -> None:
    suffix, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"towers{suffix}"
        path.write_bytes(data)
        try:
            import_towers(engine, path, SETTINGS.bbox)
        except UserError as exc:
            _refused_cleanly(exc, path)


@FUZZ
@given(file=files("status"), skip_invalid=st.booleans())
def test_any_status_sheet_is_applied_or_refused(
    engine: Engine, file: tuple[str, bytes], skip_invalid: bool
) -> None:
    suffix, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"status{suffix}"
        path.write_bytes(data)
        try:
            updates, problems = read_updates(path)
            rollout_store.update_status(
                engine, updates, by="fuzz", agency=None, source=str(path), today=NOW.date(),
                now=NOW, skip_invalid=skip_invalid, problems=problems,
            )  # fmt: skip
        except UserError as exc:
            _refused_cleanly(exc, path)

"""Hostile station files: each ends in clear lines naming file, row and column, never in a
traceback, and none can make a reader use much memory (caps on size, unpacked size, columns)."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from pollnet.cli import main
from pollnet.errors import MAX_PRINTED, UserError
from pollnet.registry import import_stations, read_table
from pollnet.registry._readers import Limits
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.store.schema.core import stations
from tests.registry.stationfiles import EN, GOOD, write_csv, write_xlsx


def _errors(path: Path, url: str) -> list[str]:
    """The English lines of importing ``path`` into ``url``, after checking nothing was stored."""
    engine = open_store(url)
    try:
        with pytest.raises(UserError) as caught:
            import_stations(engine, path, settings=Settings())
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(stations)) == 0
    finally:
        engine.dispose()
    return caught.value.render("en")


def _row(**changes: str) -> list[str]:
    row = dict(zip(EN, GOOD[0], strict=True))
    row.update(changes)
    return list(row.values())


def test_rows_shorter_than_the_header_name_each_missing_cell(tmp_path: Path) -> None:
    # Issue 10 item 2: every data row shorter than the header was an IndexError.
    path = tmp_path / "s.csv"
    path.write_text(",".join(EN) + "\nT-1,x,s\n", encoding="utf-8")
    f = str(path)
    assert _errors(path, f"sqlite:///{tmp_path / 'db.sqlite'}") == [
        f"{f}, row 1, column {column}: a value is required"
        for column in ("address", "district", "lat", "lon", "voters", "devices", "critical")
    ]


def test_huge_numbers_are_refused_and_shown_cut(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "s.csv",
        rows=[_row(voters="9" * 5000), _row(code="T-002", devices="9" * 30), _row(code="T-003")],
    )
    f = str(path)
    assert _errors(path, f"sqlite:///{tmp_path / 'db.sqlite'}") == [
        f"{f}, row 1, column voters: not a whole number: {'9' * 79}…",
        f"{f}, row 2, column devices: must be at most 2147483647, not {'9' * 30}",
    ]


def test_what_postgresql_refuses_is_refused_at_validation(pg_url: str, tmp_path: Path) -> None:
    """Voters of 2^31, a NUL, a name longer than the column: clear lines, not a traceback."""
    path = write_csv(
        tmp_path / "s.csv",
        rows=[
            _row(voters=str(2**31)),
            _row(code="T-002", name="bad\x00name"),
            _row(code="T-003", address="x" * 501),
        ],
    )
    f = str(path)
    assert _errors(path, pg_url) == [
        f"{f}, row 1, column voters: must be at most 2147483647, not 2147483648",
        f"{f}, row 2, column name: the cell contains a control character (U+0000)",
        f"{f}, row 3, column address: must be at most 500 characters, not 501",
    ]
    largest = write_csv(tmp_path / "ok.csv", rows=[_row(voters=str(2**31 - 1), name="n" * 300)])
    engine = open_store(pg_url)
    try:
        report = import_stations(engine, largest, settings=Settings())
    finally:
        engine.dispose()
    assert report.added == ("T-001",)


def test_cells_beyond_the_header_are_not_read_from_xlsx(tmp_path: Path) -> None:
    """One cell in column XFD used to make every row 16,384 cells wide (5.3 GB)."""
    book = Workbook()
    sheet = book.active
    sheet.append(EN)
    for i in range(400):
        sheet.append(_row(code=f"T-{i:04d}"))
    sheet.cell(row=1, column=16384, value="x")
    sheet.cell(row=401, column=16384, value="y")
    path = tmp_path / "s.xlsx"
    book.save(path)
    tracemalloc.start()
    try:
        table = read_table(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert table.headers == tuple(EN)
    assert len(table.rows) == 400 and all(len(cells) == len(EN) for _, cells in table.rows)
    assert not table.problems
    assert peak < 30 * 2**20, peak


def test_bad_sheet_xml_is_an_unreadable_xlsx(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", GOOD)
    bad = tmp_path / "s.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row r='x'><c r='")
            target.writestr(item, data)
    (line,) = _errors(bad, f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert line.startswith(f"{bad}: not a readable XLSX file: ")


def test_an_xlsx_of_a_zip_version_python_cannot_read_is_unreadable(tmp_path: Path) -> None:
    # Found by the import fuzz suite: zipfile raised NotImplementedError ("zip file version 6.4").
    data = bytearray(write_xlsx(tmp_path / "good.xlsx", GOOD).read_bytes())
    at = data.find(b"PK\x01\x02")  # the central directory's first entry
    assert at >= 0
    data[at + 6 : at + 8] = (64).to_bytes(2, "little")  # "version needed to extract": 6.4
    bad = tmp_path / "v.xlsx"
    bad.write_bytes(bytes(data))
    (line,) = _errors(bad, f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert line.startswith(f"{bad}: not a readable XLSX file: ")


def test_an_xlsx_that_unpacks_beyond_the_cap_is_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 2**20))
    assert path.stat().st_size < 100_000
    with pytest.raises(UserError) as caught:
        read_table(path, Limits(max_unpacked_bytes=4 * 2**20))
    assert caught.value.render("en") == [
        f"{path}: the XLSX file unpacks to 8 MB; at most 4 MB can be read"
    ]


def test_a_file_beyond_the_size_cap_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:  # sparse: 300 MB that take no disk
        fh.write(b"code\n")
        fh.truncate(300 * 2**20)
    with pytest.raises(UserError) as caught:
        read_table(path)
    assert caught.value.render("en") == [f"{path}: the file is 300 MB; at most 256 MB can be read"]


def test_a_header_with_too_many_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(300)) + "\n1\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        read_table(path)
    assert caught.value.render("en") == [
        f"{path}: the header has 300 columns; at most 256 can be read"
    ]


def test_deeply_nested_geojson_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.geojson"
    path.write_text('{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(UserError) as caught:
        read_table(path)
    assert caught.value.render("en") == [f"{path}: not valid JSON: nested too deeply"]
    digits = tmp_path / "digits.geojson"
    digits.write_text(json.dumps({"features": []})[:-2] + "[" + "9" * 5000 + "]}")
    with pytest.raises(UserError) as caught:
        read_table(digits)
    assert caught.value.render("en") == [f"{digits}: not valid JSON: a number has too many digits"]


def test_the_cli_prints_the_first_problems_and_counts_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLLNET_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    path = write_csv(
        tmp_path / "s.csv", rows=[_row(code=f"T-{i:04d}", voters="many") for i in range(250)]
    )
    with pytest.raises(SystemExit) as done:
        main(["--lang", "en", "stations", "import", str(path)])
    _, err = capsys.readouterr()
    lines = err.splitlines()
    assert done.value.code == 1
    assert len(lines) == MAX_PRINTED + 1
    assert lines[0].endswith(f"{path}, row 1, column voters: not a whole number: many")
    assert lines[-1].endswith("… and 150 more problems")


def test_one_code_alphabet_refuses_look_alikes_and_what_enrolment_refuses(tmp_path: Path) -> None:
    """A Cyrillic letter, a bidi mark, a Persian letter (which a certificate cannot carry),
    a space or a slash: refused at import; Persian digits are read as digits."""
    codes = ["\u0422-001", "T-002\u202e", "ت-003", "T 004", "T/005", "-T006", "T-۰۰۷"]
    rows = [_row(code=c) for c in codes]
    path = write_csv(tmp_path / "s.csv", rows=rows)
    f = str(path)
    use = "use Latin letters, digits, '.', '_' and '-'"
    bad = "column code: not a usable station code:"
    assert _errors(path, f"sqlite:///{tmp_path / 'db.sqlite'}") == [
        f"{f}, row 1, {bad} \\u0422-001 (character U+0422; {use})",
        f"{f}, row 2, {bad} T-002\\u202e (character U+202E; {use})",
        f"{f}, row 3, {bad} \\u062a-003 (character U+062A; {use})",
        f"{f}, row 4, {bad} T 004 (character U+0020; {use})",
        f"{f}, row 5, {bad} T/005 (character U+002F; {use})",
        f"{f}, row 6, {bad} -T006 (character U+002D; {use})",
    ]


def test_every_code_the_registry_takes_can_be_enrolled(tmp_path: Path) -> None:
    from pollnet.link.pki import enroll_device, init_pki

    pki = init_pki(tmp_path / "pki")
    for code in ("T-00012", "ST.a_b-9"):
        assert (enroll_device(pki, code, f"DV-{code}") / "bundle.toml").is_file()
    with pytest.raises(UserError, match="not a usable station"):
        enroll_device(pki, "ت-003", "DV-1")

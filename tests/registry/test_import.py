"""Importing into a real database (SQLite and PostgreSQL): all-or-nothing, skip-invalid with a
rejects file, re-import counts, and export -> import round trips in every format."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from pollnet.errors import NotFoundError, UserError
from pollnet.registry import (
    export_stations,
    get_station,
    import_stations,
    list_stations,
    read_table,
)
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.store.schema.core import sites, stations
from tests.registry.stationfiles import EN, FA, GOOD, write_csv

SETTINGS = Settings()


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def test_import_then_list_and_show(db_url: str, tmp_path: Path) -> None:
    engine = open_store(db_url)
    report = import_stations(engine, write_csv(tmp_path / "s.csv", header=FA), settings=SETTINGS)
    assert (report.added, report.changed, report.unchanged) == (("T-001", "T-002", "T-003"), (), ())
    assert (report.format, report.encoding, report.rows) == ("csv", "UTF-8", 3)
    assert _count(engine, sites) == 2  # two stations share the Ferdowsi school
    station = get_station(engine, "T-001")
    assert station.as_dict() == {
        "code": "T-001", "name": "شعبه یک", "site": "دبستان فردوسی",
        "address": "خیابان انقلاب، پلاک 10", "district": 6, "education_district": None,
        "lat": 35.701, "lon": 51.389, "voters": 1200, "devices": 2, "critical": True,
    }  # fmt: skip
    assert [r.code for r in list_stations(engine, critical=True)] == ["T-001"]
    assert [r.code for r in list_stations(engine, critical=False)] == ["T-002", "T-003"]
    assert list_stations(engine, district=7) == []
    with pytest.raises(NotFoundError, match="no station with code T-999"):
        get_station(engine, "T-۹۹۹")


def test_one_bad_row_changes_nothing(db_url: str, tmp_path: Path) -> None:
    engine = open_store(db_url)
    import_stations(engine, write_csv(tmp_path / "a.csv", GOOD[:1]), settings=SETTINGS)
    bad = [[*GOOD[0][:7], "5000", *GOOD[0][8:]], [*GOOD[1][:8], "0", GOOD[1][9]], GOOD[2]]
    with pytest.raises(UserError) as caught:
        import_stations(engine, write_csv(tmp_path / "b.csv", bad), settings=SETTINGS)
    assert len(caught.value.problems) == 1
    assert [r.voters for r in list_stations(engine)] == [1200]
    assert _count(engine, sites) == 1


def test_skip_invalid_imports_the_rest_and_writes_rejects(db_url: str, tmp_path: Path) -> None:
    engine = open_store(db_url)
    rows = [GOOD[0], [*GOOD[1][:5], "51.3891", "35.7011", *GOOD[1][7:]], [*GOOD[2][:8], "x", "no"]]
    source = write_csv(tmp_path / "s.csv", rows, FA)
    report = import_stations(engine, source, settings=SETTINGS, skip_invalid=True, lang="en")
    assert report.added == ("T-001",)
    assert [r.row for r in report.rejected] == [2, 3]
    assert report.rejects_file == tmp_path / "s.csv.rejects.csv"
    data = report.rejects_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    lines = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert lines[0] == [*FA, "reason"]
    assert lines[1] == [
        *rows[1],
        "column عرض جغرافیایی: latitude and longitude look swapped: (51.3891, 35.7011)",
    ]
    assert lines[2] == [*rows[2], "column تعداد دستگاه: not a whole number: x"]
    # The rejects file, once fixed, imports as it is: its reason column is ignored.
    fixed = tmp_path / "fixed.csv"
    fixed_rows = [[*GOOD[1], "r"], [*GOOD[2], "r"]]
    write_csv(fixed, fixed_rows, [*FA, "reason"])
    assert import_stations(engine, fixed, settings=SETTINGS).added == ("T-002", "T-003")


def test_rejects_path_and_language_can_be_chosen(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    source = write_csv(tmp_path / "s.csv", [GOOD[0], [*GOOD[1][:9], "شاید"]], FA)
    out = tmp_path / "out" / "r.csv"
    out.parent.mkdir()
    report = import_stations(
        engine, source, settings=SETTINGS, skip_invalid=True, rejects=out, lang="fa"
    )
    assert report.rejects_file == out
    lines = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert lines[0][-1] == "دلیل"
    assert lines[1][-1].startswith("ستون حساس: بله یا خیر نیست: شاید")


def test_reimport_counts_added_changed_unchanged(db_url: str, tmp_path: Path) -> None:
    engine = open_store(db_url)
    import_stations(engine, write_csv(tmp_path / "a.csv", GOOD[:2]), settings=SETTINGS)
    again = import_stations(engine, write_csv(tmp_path / "a.csv", GOOD[:2]), settings=SETTINGS)
    assert (again.added, again.changed, again.unchanged) == ((), (), ("T-001", "T-002"))
    moved_school = [*GOOD[1][:2], "دبستان سعدی", "خیابان ولیعصر", *GOOD[1][4:]]
    rows = [[*GOOD[0][:7], "1300", *GOOD[0][8:]], moved_school, GOOD[2]]
    report = import_stations(engine, write_csv(tmp_path / "b.csv", rows), settings=SETTINGS)
    assert (report.added, report.changed, report.unchanged) == (("T-003",), ("T-001", "T-002"), ())
    assert get_station(engine, "T-001").voters == 1300
    assert get_station(engine, "T-002").site == "دبستان سعدی"
    assert _count(engine, stations) == 3
    assert _count(engine, sites) == 3  # the old school stays; sites are upserted, not deleted


@pytest.mark.parametrize(
    ("suffix", "headers"), [(".csv", "fa"), (".xlsx", "en"), (".geojson", "fa")]
)
def test_export_round_trips_through_import(
    db_url: str, tmp_path: Path, suffix: str, headers: str
) -> None:
    engine = open_store(db_url)
    rows = [[*row, edu] for row, edu in zip(GOOD, ["3", "3", ""], strict=True)]
    rows[2][5] = "35.71023456789012"  # every digit of a double survives
    write_csv(tmp_path / "s.csv", rows, [*EN, "education_district"])
    import_stations(engine, tmp_path / "s.csv", settings=SETTINGS)
    before = list_stations(engine)
    out = tmp_path / f"export{suffix}"
    assert export_stations(engine, out, headers=headers) == 3
    table = read_table(out)
    assert table.headers[0] == ("کد شعبه" if headers == "fa" else "code")
    report = import_stations(engine, out, settings=SETTINGS)
    assert report.unchanged == ("T-001", "T-002", "T-003")
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    import_stations(fresh, out, settings=SETTINGS)
    assert list_stations(fresh) == before
    assert before[2].lat == 35.71023456789012 and before[0].education_district == 3


def test_export_filters_and_rejects_unknown_formats(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    import_stations(engine, write_csv(tmp_path / "s.csv"), settings=SETTINGS)
    assert export_stations(engine, tmp_path / "c.csv", critical=True) == 1
    with pytest.raises(UserError, match=r"unknown file type \.pdf"):
        export_stations(engine, tmp_path / "c.pdf")
    with pytest.raises(UserError, match="headers must be fa or en"):
        export_stations(engine, tmp_path / "c.csv", headers="de")


def test_max_district_setting_must_be_a_number(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    settings = Settings(sections={"registry": {"max_district": "22"}})
    with pytest.raises(UserError, match="max_district must be a whole number"):
        import_stations(engine, write_csv(tmp_path / "s.csv"), settings=settings)


def test_a_changed_education_district_changes_the_stations_of_its_site(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    header = [*EN, "education_district"]
    write_csv(tmp_path / "s.csv", [[*row, "3"] for row in GOOD], header)
    import_stations(engine, tmp_path / "s.csv", settings=SETTINGS)
    rows = [[*GOOD[0], "4"], [*GOOD[1], "4"], [*GOOD[2], "3"]]
    report = import_stations(engine, write_csv(tmp_path / "s.csv", rows, header), settings=SETTINGS)
    assert (report.changed, report.unchanged) == (("T-001", "T-002"), ("T-003",))
    assert get_station(engine, "T-002").education_district == 4


def test_a_file_of_another_city_is_one_line_with_the_bbox_to_set(
    db_url: str, tmp_path: Path
) -> None:
    engine = open_store(db_url)
    helsinki = [
        [f"H-{n:03d}", "Äänestyspaikka", f"Koulu {n}", "Katu 1", "1", f"60.1{n}", f"24.9{n}",
         "100", "1", "no"]
        for n in range(1, 60)
    ]  # fmt: skip
    helsinki[6][5:7] = ["35.7", "51.4"]  # one row inside Tehran, with another problem
    helsinki[6][8] = "0"
    source = write_csv(tmp_path / "h.csv", helsinki)
    with pytest.raises(UserError) as raised:
        import_stations(engine, source, settings=SETTINGS)
    lines = raised.value.render("en")
    assert len(lines) == 2, lines  # the summary, and row 7's own problem
    (summary,) = [line for line in lines if "rows are outside" in line]
    assert summary.startswith(f"{source}, column lat: 58 rows are outside the area (latitude ")
    assert "rows 1-6, 8-59." in summary
    assert summary.endswith("[pollnet] bbox = [60.11, 24.91, 60.19, 24.99]")
    fa = raised.value.render("fa")
    persian = next(line for line in fa if "bbox" in line)
    assert "۱-۶، ۸-۵۹" in persian or "۱-۶, ۸-۵۹" in persian
    assert _count(engine, stations) == 0


def test_a_few_rows_outside_the_area_keep_their_own_lines(db_url: str, tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[0][5] = rows[1][5] = "60.17"
    with pytest.raises(UserError) as raised:
        import_stations(open_store(db_url), write_csv(tmp_path / "s.csv", rows), settings=SETTINGS)
    lines = raised.value.render("en")
    assert len(lines) == 2 and all("is outside the area" in line for line in lines)


def test_a_persian_line_has_one_kind_of_digit_and_codes_as_written(
    db_url: str, tmp_path: Path
) -> None:
    import re

    rows = [list(r) for r in GOOD]
    rows[2][0] = "T-001"  # row 3 repeats row 1's code
    source = write_csv(tmp_path / "s.csv", rows)
    with pytest.raises(UserError) as raised:
        import_stations(open_store(db_url), source, settings=SETTINGS)
    lines = raised.value.render("fa")
    assert len(lines) == 2
    for line in lines:
        rest = line.replace(str(source), "").replace("T-001", "")
        assert "T-001" in line and not re.search("[0-9]", rest), line
    assert "ردیف ۳" in lines[0] and "ردیف ۱" in lines[1]

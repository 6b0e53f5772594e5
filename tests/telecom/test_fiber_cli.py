"""``pollnet fiber`` end to end: exit codes, warnings on standard error, JSON that parses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.telecom.files import SAMPLES

EN = SAMPLES / "fiber-en.csv"
FA = SAMPLES / "fiber-fa.geojson"


def test_import_list_show_export(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("--lang", "en", "fiber", "import", str(EN), "--verbose")
    assert code == 0
    assert out.splitlines() == [
        f"Read {EN}: CSV, UTF-8, 3 rows.",
        "Fiber lines: 3 added, 0 changed, 0 unchanged.",
        "added: F-ENG-1, F-ENG-2, F-TAJ-1",
    ]
    assert err.startswith(f"warning: {EN}: no street network imported yet")
    code, out, _ = run("--lang", "en", "fiber", "list", "--json")
    assert [x["kind"] for x in json.loads(out)] == ["duct", "aerial", "direct-buried"]
    code, out, _ = run("--lang", "en", "fiber", "list")
    assert code == 0 and "direct-buried" in out and "3 fiber lines" in out
    code, out, _ = run("--lang", "en", "fiber", "show", "F-ENG-2", "--json")
    assert json.loads(out) == {
        "code": "F-ENG-2", "owner": "TCI", "kind": "aerial", "spare_fibres": 6,
        "free_ducts": None,
        "geometry": {"type": "LineString", "coordinates": [[51.3912, 35.7009], [51.3912, 35.706]]},
    }  # fmt: skip
    code, out, _ = run("--lang", "en", "fiber", "export", "out.xlsx", "--headers", "fa")
    assert (code, out) == (0, "Exported 3 fiber lines to out.xlsx\n")
    code, out, _ = run("--lang", "en", "fiber", "import", "out.xlsx", "--json")
    report = json.loads(out)
    assert (report["unchanged"], report["matched"]) == (["F-ENG-1", "F-ENG-2", "F-TAJ-1"], None)


def test_persian_output(run) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("--lang", "fa", "fiber", "import", str(FA))
    assert code == 0
    assert out.splitlines()[1] == "مسیرهای فیبر: ۳ افزوده، ۰ تغییر کرده، ۰ بدون تغییر."
    assert err.startswith("هشدار: ")


def test_bad_rows_exit_1_and_change_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,owner,kind,free_ducts,geometry\n"
        'F-1,TCI,duct,two,"LINESTRING (51.39 35.7, 51.4 35.7)"\n',
        encoding="utf-8",
    )
    code, _, err = run("--lang", "en", "fiber", "import", str(bad))
    assert (code, err) == (1, f"error: {bad}, row 1, column free_ducts: not a whole number: two\n")
    code, out, _ = run("--lang", "en", "fiber", "list", "--json")
    assert json.loads(out) == []
    code, _, err = run("--lang", "en", "fiber", "show", "F-1")
    assert (code, err) == (1, "error: no fiber line with code F-1\n")

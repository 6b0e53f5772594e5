"""``pollnet exchanges`` end to end: exit codes, one line per problem, JSON that parses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.telecom.files import SAMPLES

EN = SAMPLES / "exchanges-en.csv"
FA = SAMPLES / "exchanges-fa.csv"


def test_import_list_show_export(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("--lang", "en", "exchanges", "import", str(EN), "--verbose")
    assert code == 0
    assert out.splitlines() == [
        f"Read {EN}: CSV, UTF-8, 3 rows.",
        "Exchanges: 3 added, 0 changed, 0 unchanged.",
        "added: EX-ENG, EX-TAJ, EX-REY",
    ]
    code, out, _ = run("--lang", "en", "exchanges", "list", "--json")
    assert [x["code"] for x in json.loads(out)] == ["EX-ENG", "EX-REY", "EX-TAJ"]
    code, out, _ = run("--lang", "en", "exchanges", "list")
    assert code == 0 and "Tajrish exchange" in out and "3 exchanges" in out
    code, out, _ = run("--lang", "en", "exchanges", "show", "EX-REY", "--json")
    assert json.loads(out) == {
        "code": "EX-REY", "name": "Rey exchange", "operator": "TCI", "lat": 35.5941,
        "lon": 51.435, "pon_ports": 8, "county": "Rey",
    }  # fmt: skip
    code, out, _ = run("--lang", "en", "exchanges", "export", "out.geojson")
    assert (code, out) == (0, "Exported 3 exchanges to out.geojson\n")
    features = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))["features"]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [51.3912, 35.7009]}
    code, out, _ = run("--lang", "en", "exchanges", "import", "out.geojson", "--json")
    assert json.loads(out)["unchanged"] == ["EX-ENG", "EX-REY", "EX-TAJ"]


def test_persian_output(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("--lang", "fa", "exchanges", "import", str(FA))
    assert code == 0
    assert out.splitlines()[1] == "مراکز: ۳ افزوده، ۰ تغییر کرده، ۰ بدون تغییر."
    code, out, _ = run("--lang", "fa", "exchanges", "show", "EX-ENG")
    assert code == 0 and "مرکز مخابرات انقلاب" in out and "۱۶" in out


def test_bad_rows_exit_1_and_change_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,operator,lat,lon,pon_ports\nEX-1,One,TCI,35.7,51.4,x\nEX-2,Two,,35.7,51.4,2\n",
        encoding="utf-8",
    )
    code, _, err = run("--lang", "en", "exchanges", "import", str(bad))
    assert code == 1
    assert err.splitlines() == [
        f"error: {bad}, row 1, column pon_ports: not a whole number: x",
        f"error: {bad}, row 2, column operator: a value is required",
    ]
    code, out, _ = run("--lang", "en", "exchanges", "list", "--json")
    assert json.loads(out) == []
    code, out, _ = run("--lang", "en", "exchanges", "import", str(bad), "--skip-invalid",
                       "--rejects", "r.csv")  # fmt: skip
    assert code == 0
    assert out.splitlines()[-1] == "2 rows rejected; written with their reasons to r.csv"
    code, _, err = run("--lang", "en", "exchanges", "import", str(bad), "--rejects", "r.csv")
    assert code == 2 and "--rejects needs --skip-invalid" in err
    code, _, err = run("--lang", "en", "exchanges", "show", "EX-9")
    assert (code, err) == (1, "error: no exchange with code EX-9\n")


def test_exchanges_get_their_areas_when_areas_exist(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.areas.conftest import box, feature, write_areas

    areas = write_areas(
        tmp_path / "areas.geojson",
        [feature(box(51.38, 35.69, 51.41, 35.72), kind="county", name="Tehran", code="tehran")],
    )
    assert run("--lang", "en", "areas", "import", str(areas))[0] == 0
    code, out, _ = run("--lang", "en", "exchanges", "import", str(EN))
    assert code == 0
    # the file's county wins where it gives one; the polygon holds only the Tehran exchange
    assert "Exchanges by county (3/3): Rey: 1, Shemiranat: 1, Tehran: 1" in out
    assert "2 outside every area: EX-REY, EX-TAJ" in out

"""``pollnet stations`` end to end: exit codes 0/1/2, no tracebacks, JSON that parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.registry.stationfiles import EN, FA, GOOD, write_csv


def test_import_list_show_in_english(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = write_csv(tmp_path / "s.csv", header=FA, encoding="utf-8-sig")
    code, out, _ = run("--lang", "en", "stations", "import", str(source), "--verbose")
    assert code == 0
    assert out.splitlines() == [
        f"Read {source}: CSV, UTF-8 with BOM, 3 rows.",
        "Stations: 3 added, 0 changed, 0 unchanged.",
        "added: T-001, T-002, T-003",
    ]
    code, out, _ = run("--lang", "en", "stations", "list", "--json")
    assert code == 0
    assert [s["code"] for s in json.loads(out)] == ["T-001", "T-002", "T-003"]
    code, out, _ = run("--lang", "en", "stations", "list", "--critical", "--json")
    assert [s["code"] for s in json.loads(out)] == ["T-001"]
    code, out, _ = run("--lang", "en", "stations", "list")
    assert code == 0 and "T-002" in out and "3 stations" in out
    code, out, _ = run("--lang", "en", "stations", "show", "T-002", "--json")
    assert code == 0 and json.loads(out)["voters"] == 950


def test_one_row_is_one_row_not_one_rows(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = write_csv(tmp_path / "one.csv", rows=GOOD[:1])
    code, out, _ = run("--lang", "en", "stations", "import", str(source))
    assert code == 0
    assert out.splitlines()[0] == f"Read {source}: CSV, UTF-8, 1 row."


def test_persian_output_uses_persian_digits(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = write_csv(tmp_path / "s.csv")
    code, out, _ = run("--lang", "fa", "stations", "import", str(source))
    assert code == 0
    assert out.splitlines()[1] == "شعبه‌ها: ۳ افزوده، ۰ تغییر کرده، ۰ بدون تغییر."
    code, out, _ = run("--lang", "fa", "stations", "show", "T-۰۰۳")
    # numbers in Persian digits; the code as written, the same as in every other output
    assert code == 0 and "۲٬۱۰۰" in out and "T-003" in out and "T-۰۰۳" not in out


def test_codes_and_names_keep_their_own_digits(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    rows = [["H-044", "Äänestyspaikka 1", "Koulu 12", "Katu 3", "6", *GOOD[0][5:]]]
    assert run("stations", "import", str(write_csv(tmp_path / "s.csv", rows)))[0] == 0
    code, out, _ = run("--lang", "fa", "stations", "list")
    assert code == 0
    assert "H-044" in out and "Äänestyspaikka 1" in out and "Koulu 12" in out
    assert "۰۴۴" not in out and "۱۲" not in out
    line = next(line for line in out.splitlines() if "H-044" in line)
    assert "۶" in line and "۱٬۲۰۰" in line  # district and voters are numbers: Persian digits


def test_invalid_rows_exit_1_listing_every_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = [[*GOOD[0][:5], "51.389", "35.701", *GOOD[0][7:]], [*GOOD[1][:7], "-1", "1", "no"]]
    source = write_csv(tmp_path / "s.csv", rows)
    code, _, err = run("--lang", "en", "stations", "import", str(source))
    assert code == 1
    assert err.splitlines() == [
        f"error: {source}, row 1, column lat: latitude and longitude look swapped: "
        "(51.389, 35.701)",
        f"error: {source}, row 2, column voters: must be at least 0, not -1",
    ]
    code, out, _ = run("--lang", "en", "stations", "list", "--json")
    assert json.loads(out) == []
    code, out, _ = run("--lang", "en", "stations", "import", str(source), "--skip-invalid")
    assert code == 0
    assert out.splitlines()[-1] == (
        f"2 rows rejected; written with their reasons to {source}.rejects.csv"
    )
    code, _, err = run("--lang", "fa", "stations", "import", str(source))
    assert code == 1 and err.startswith(f"خطا: {source}، ردیف ۱، ستون lat: به نظر می‌رسد")


def test_user_errors_and_usage_errors(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("--lang", "en", "stations", "show", "NOPE")
    assert (code, err) == (1, "error: no station with code NOPE\n")
    code, _, err = run("--lang", "en", "stations", "import", str(tmp_path / "missing.csv"))
    assert (code, err) == (1, f"error: {tmp_path / 'missing.csv'}: file not found\n")
    code, _, _ = run("stations", "list", "--district", "six")
    assert code == 2
    code, _, err = run("stations", "import", "s.csv", "--rejects", "r.csv")
    assert code == 2 and "--rejects needs --skip-invalid" in err


def test_import_json_report(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = write_csv(tmp_path / "s.csv", [GOOD[0], [*GOOD[1][:9], "maybe"]])
    code, out, _ = run(
        "--lang", "en", "stations", "import", str(source), "--skip-invalid", "--json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["added"] == ["T-001"]
    assert report["rejected"] == [
        {
            "row": 2,
            "reasons": [
                f"{source}, row 2, column critical: not yes or no: maybe "
                "(use yes/no, true/false, 1/0, بله/خیر)"
            ],
        }
    ]


def test_export_then_reimport_is_unchanged(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    suffix = ".xlsx"  # the library tests round-trip every format; this one checks the command
    run("--lang", "en", "stations", "import", str(write_csv(tmp_path / "s.csv")))
    out_file = tmp_path / f"all{suffix}"
    code, out, _ = run("--lang", "en", "stations", "export", str(out_file), "--headers", "fa")
    assert (code, out) == (0, f"Exported 3 stations to {out_file}\n")
    code, out, _ = run("--lang", "en", "stations", "import", str(out_file))
    assert out.splitlines()[1] == "Stations: 0 added, 0 changed, 3 unchanged."


def test_the_installed_command_runs_in_a_subprocess(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "s.csv", [GOOD[0], [*GOOD[1][:3], "", *GOOD[1][4:]]], EN)
    env = {**os.environ, "POLLNET_DB": f"sqlite:///{tmp_path / 'p.db'}", "POLLNET_LANG": "en"}
    done = subprocess.run(
        [sys.executable, "-c", "from pollnet.cli import main; main()", "stations", "import",
         str(source)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"error: {source}, row 2, column address: a value is required\n"

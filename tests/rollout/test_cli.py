"""The rollout commands end to end, in process, on a real SQLite file."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pollnet.cli import main
from pollnet.i18n import set_language
from pollnet.plan.store import save_plan
from pollnet.rollout.synthetic import synthetic_plan
from pollnet.store import open_store


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("POLLNET_DB", url)
    monkeypatch.setenv("POLLNET_USER", "coordinator")
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)
    monkeypatch.delenv("POLLNET_LANG", raising=False)
    save_plan(open_store(url), synthetic_plan(40, exchanges=2, districts=2, seed=2))
    yield tmp_path
    set_language("fa")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_work_orders_from_generation_to_the_weekly_report(
    city: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "--lang", "en", "work", "generate", "--today", "2026-11-01", "--json"
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["added"] == summary["work_orders"] > 300

    code, out, _ = run(capsys, "work", "list", "--agency", "municipality", "--json")
    rows = json.loads(out)
    assert rows and {r["agency"] for r in rows} == {"municipality"}
    permit = next(r for r in rows if r["kind"] == "permit")["id"]

    code, out, _ = run(
        capsys,
        "work",
        "update",
        permit,
        "--status",
        "done",
        "--date",
        "1405/08/20",
        "--note",
        "issued",
        "--agency",
        "municipality",
    )
    assert code == 0
    code, out, _ = run(capsys, "--lang", "en", "work", "history", permit)
    assert "planned → done" in out and "coordinator" in out and "Municipality" in out

    code, _, err = run(capsys, "--lang", "en", "work", "update", "TR-NOPE", "--status", "done")
    assert code == 1 and err.strip() == "error: unknown work order: TR-NOPE"
    code, _, err = run(capsys, "work", "update", permit, "--status", "done", "--date", "1499/01/01")
    assert code == 1 and "آینده" in err and "Traceback" not in err

    code, out, _ = run(capsys, "work", "export", "--agency", "municipality", "--out", "m.xlsx")
    assert code == 0 and (city / "m.xlsx").exists()
    book = load_workbook(city / "m.xlsx")
    assert book.active["A1"].value == "شناسه"

    sheet = city / "status.csv"
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        out_csv = csv.writer(fh)
        out_csv.writerow(["شناسه", "وضعیت", "تاریخ"])
        out_csv.writerow([rows[1]["id"], "در حال انجام", "۱۴۰۵/۰۸/۲۲"])
        out_csv.writerow(["XX-1", "done", "1405/08/22"])
    code, _, err = run(capsys, "--lang", "en", "work", "import", str(sheet))
    assert code == 1 and f"{sheet}, row 2, column شناسه: unknown work order: XX-1" in err
    code, out, _ = run(capsys, "work", "list", "--status", "in_progress", "--json")
    assert json.loads(out) == []  # nothing changed
    code, out, _ = run(capsys, "work", "import", str(sheet), "--skip-invalid", "--json")
    result = json.loads(out)
    assert (result["applied"], result["rejected"]) == (1, 1)

    code, out, _ = run(
        capsys, "schedule", "--today", "2026-11-29", "--crews", "telecom:1=+2", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["forecast"]["priority"] == "critical_path"
    assert data["what_if"]["forecast"]["districts"]["1"] <= data["forecast"]["districts"]["1"]
    code, out, _ = run(capsys, "schedule", "--today", "2026-11-29", "--crews", "telecom:1")
    assert code == 2 or code == 1

    code, out, _ = run(capsys, "work", "list", "--overdue", "--today", "2030-01-01", "--json")
    assert len(json.loads(out)) > 10

    code, out, _ = run(capsys, "readiness", "--today", "2026-11-29", "--json")
    districts = json.loads(out)["districts"]
    assert sum(d["stations"] for d in districts) == 40

    code, out, _ = run(capsys, "report", "weekly", "--out", "reports", "--today", "1405/09/08")
    assert code == 0
    html = (city / "reports" / "weekly-1405-09-08.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in html and "<svg" in html
    assert (city / "reports" / "weekly-1405-09-08.xlsx").exists()


def test_no_work_orders_yet_is_one_clear_line(
    city: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--lang", "en", "readiness")
    assert code == 1
    assert err.strip() == "error: no work orders yet: run pollnet work generate first"


def test_schedule_text_what_if_and_baseline(city: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "work", "generate", "--today", "2026-11-01")[0] == 0
    code, out, _ = run(capsys, "work", "list", "--overdue", "--today", "2030-01-01")
    assert code == 0 and out.strip()
    code, out, _ = run(
        capsys,
        "--lang",
        "en",
        "schedule",
        "--today",
        "2030-01-01",
        "--crews",
        "telecom:1=+2",
        "--baseline",
    )
    assert code == 0
    assert "Election day 2028-02-25" in out and "With telecom:1=+2" in out
    assert "district 1:" in out and "→" in out
    code, out, _ = run(capsys, "work", "list", "--overdue", "--today", "2030-01-01")
    assert out == ""  # re-baselined from 2030: nothing is late yet
    code, out, _ = run(capsys, "schedule", "--today", "1405/09/08")
    assert "روز انتخابات ۱۴۰۶/۱۲/۰۶" in out
    code, out, _ = run(capsys, "schedule", "--json", "--stations")
    assert len(json.loads(out)["stations"]) == 40


def test_work_history_speaks_persian_with_jalali_local_time(
    city: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import re
    import time

    monkeypatch.setenv("TZ", "Asia/Tehran")
    time.tzset()
    try:
        run(capsys, "work", "generate", "--today", "2026-11-01")
        code, out, _ = run(capsys, "--lang", "en", "work", "list", "--agency", "municipality")
        permit = next(line.split()[0] for line in out.splitlines() if line.startswith("PM-"))
        args = ["work", "update", permit, "--status", "done", "--date", "1405/08/20"]
        assert run(capsys, *args, "--agency", "municipality", "--note", "issued")[0] == 0
        code, out, _ = run(capsys, "--lang", "fa", "work", "history", permit)
        assert code == 0
        lines = out.splitlines()
        done = next(line for line in lines if "انجام‌شده" in line)
        when, order, field, change, who, agency, source, note = done.split("\t")
        assert re.fullmatch(r"۱۴[۰-۹]{2}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}", when), when
        assert order == permit and field == "وضعیت"
        assert change == "برنامه‌ریزی‌شده → انجام‌شده"
        assert (who, agency, source, note) == ("coordinator", "شهرداری", "خط فرمان", "issued")
        finished = next(line for line in lines if line.split("\t")[2] == "پایان")
        assert "- → ۱۴۰۵/۰۸/۲۰" in finished
        plan_id = re.search(r"[0-9a-f]{32}", out)
        assert plan_id is not None  # codes keep their own digits; nothing else is ASCII
        text = out.replace(permit, "").replace("issued", "").replace(plan_id.group(0), "")
        assert not re.search(r"[0-9]", text)
        english = run(capsys, "--lang", "en", "work", "history", permit)[1].splitlines()
        assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d", english[-1].split("\t")[0])
        status = "Status\tplanned → done\tcoordinator\tMunicipality\tcommand line\tissued"
        assert any(line.endswith(status) for line in english)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_schedule_says_how_many_crews_would_meet_the_deadline(
    city: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLLNET_ELECTION_DATE", "2026-12-11")
    run(capsys, "work", "generate", "--today", "2026-11-01")
    code, out, _ = run(capsys, "--lang", "en", "schedule", "--today", "2026-11-01")
    assert code == 0 and "pollnet schedule --suggest-crews finds" in out
    args = ["schedule", "--today", "2026-11-01", "--suggest-crews"]
    code, out, _ = run(capsys, "--lang", "en", *args, "--json")
    found = json.loads(out)["suggested_crews"]
    assert code == 0 and found["meets_deadline"] and found["crews"]
    assert found["forecast"]["stations_at_risk"] == 0
    code, out, _ = run(capsys, "--lang", "en", *args)
    line = next(line for line in out.splitlines() if line.startswith("To meet the deadline: "))
    assert f"(--crews {' '.join(found['crews'])})" in line and "more crews of" in line
    check = run(capsys, "--lang", "en", "schedule", "--today", "2026-11-01", "--json",
                *[arg for crew in found["crews"] for arg in ("--crews", crew)])[1]  # fmt: skip
    assert json.loads(check)["what_if"]["forecast"]["stations_at_risk"] == 0
    code, out, _ = run(capsys, "--lang", "fa", *args)
    persian = next(line for line in out.splitlines() if line.startswith("برای رسیدن به مهلت"))
    assert "گروه کاری دیگر از" in persian

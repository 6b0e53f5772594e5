"""Status sheets: export with Persian headers, read back (XLSX and CSV), unreadable cells."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pollnet.errors import UserError
from pollnet.rollout.sheets import export_sheet, read_updates
from pollnet.rollout.status import OrderState
from pollnet.rollout.workorders import generate
from tests.rollout.plans import two_stations


def test_export_has_persian_headers_and_only_the_agency(tmp_path: Path) -> None:
    orders = generate(two_stations())
    states = {
        "PM-03-valiasr": OrderState(
            "PM-03-valiasr", "done", dt.date(2026, 11, 20), dt.date(2026, 11, 20)
        )
    }
    path = tmp_path / "municipality.xlsx"
    count = export_sheet(path, orders, states, agency="municipality")
    assert count == sum(1 for o in orders if o.agency == "municipality") == 4
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    assert header[0] == "شناسه" and "وضعیت" in header
    assert "توان دریافتی (dBm)" not in header  # no optical tests on the municipality's sheet
    assert sheet.sheet_view.rightToLeft
    rows = [
        {h: c.value for h, c in zip(header, r, strict=True)} for r in sheet.iter_rows(min_row=2)
    ]
    first = next(r for r in rows if r["شناسه"] == "PM-03-valiasr")
    assert first["وضعیت"] == "انجام‌شده"
    assert first["تاریخ"] == "۱۴۰۵/۰۸/۲۹"


def test_a_filled_in_sheet_reads_back(tmp_path: Path) -> None:
    orders = generate(two_stations())
    path = tmp_path / "telecom.xlsx"
    export_sheet(path, orders, {}, agency="telecom")
    book = load_workbook(path)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    sheet.cell(2, col["وضعیت"]).value = "در حال انجام"
    sheet.cell(2, col["تاریخ"]).value = "۱۴۰۵/۰۸/۲۰"
    sheet.cell(3, col["وضعیت"]).value = "done"
    sheet.cell(3, col["تاریخ"]).value = dt.datetime(2026, 11, 21)
    sheet.cell(3, col["توان دریافتی (dBm)"]).value = "-۱۹٫۵"
    book.save(path)
    updates, problems = read_updates(path)
    assert problems == []
    assert len(updates) == sum(1 for o in orders if o.agency == "telecom")
    assert updates[0].status == "in_progress" and updates[0].date == dt.date(2026, 11, 11)
    assert updates[1].status == "done" and updates[1].date == dt.date(2026, 11, 21)
    assert updates[1].measured_rx_dbm == -19.5
    assert updates[2].status == "planned" and updates[2].row == 3


def test_csv_with_english_headers_and_bad_cells(tmp_path: Path) -> None:
    path = tmp_path / "status.csv"
    path.write_text(
        "ID,Status,Date,Measured power (dBm)\n"
        "TR-10,done,2026-11-20,\n"
        "TR-11,done,1405/13/40,\n"
        "ST-A-OTEST,done,2026-11-20,strong\n"
        ",,,\n",
        encoding="utf-8",
    )
    updates, problems = read_updates(path)
    assert [u.order_id for u in updates] == ["TR-10"]
    texts = [p.render("en") for p in problems]
    assert texts == [
        f"{path}, row 2, column Date: no such day: 1405/13/40",
        f"{path}, row 3, column Measured power (dBm): not a number: strong",
    ]


def test_missing_columns_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("ID,Colour\nTR-10,red\n", encoding="utf-8")
    with pytest.raises(UserError, match="missing columns: status"):
        read_updates(path)
    with pytest.raises(UserError, match="file not found"):
        read_updates(tmp_path / "nope.csv")


def test_the_status_drop_down_refuses_other_text_and_every_column_filters(
    tmp_path: Path,
) -> None:
    orders = generate(two_stations())
    for agency, dbm in (("municipality", False), ("telecom", True), (None, True)):
        path = tmp_path / f"{agency}.xlsx"
        count = export_sheet(path, orders, {}, agency=agency, lang="en")
        sheet = load_workbook(path).active
        header = [c.value for c in sheet[1]]
        assert ("Measured power (dBm)" in header) is dbm
        last = sheet.cell(1, len(header)).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{count + 1}"
        assert sheet.freeze_panes == "B2"
        (check,) = sheet.data_validations.dataValidation
        status = sheet.cell(1, header.index("Status") + 1).column_letter
        assert str(check.sqref) == f"{status}2:{status}{count + 1}"
        assert check.type == "list" and check.showErrorMessage
        assert check.errorStyle in (None, "stop")  # stop is the default: the text is refused
        assert check.error == "Choose one of: planned / in progress / done / failed"
    updates, problems = read_updates(tmp_path / "municipality.xlsx")
    assert problems == [] and len(updates) == 4  # a sheet without the dBm column reads back


def test_a_hostile_status_sheet_is_refused_row_by_row_on_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    """A NUL in a note (PostgreSQL refuses it), a power of 1e400, a stray cell in column XFD:
    problems naming file, row and column; the good row applies; no database error."""
    from pollnet.rollout import store
    from pollnet.store import open_store

    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    orders = generate(two_stations())
    first, second, third = [o.id for o in orders if not o.predecessors][:3]
    path = tmp_path / "status.csv"
    path.write_text(
        "ID,Status,Date,Measured power (dBm),Note\n"
        f"{first},in progress,2026-11-19,,a\x00b\n"
        f"{second},in progress,2026-11-19,1e400,\n"
        f"{third},in progress,2026-11-19,,=cmd|' /C calc'!A0\n",
        encoding="utf-8",
    )
    engine = open_store(pg_url)
    try:
        store.save_work_orders(engine, orders, by="t", now=now)
        updates, problems = read_updates(path)
        outcome = store.update_status(
            engine, updates, by="t", agency=None, source=str(path), today=now.date(), now=now,
            skip_invalid=True, problems=problems,
        )  # fmt: skip
        _, states = store.load_work_orders(engine)
    finally:
        engine.dispose()
    assert [p.render("en") for p in outcome.problems] == [
        f"{path}, row 1, column Note: the cell contains a control character (U+0000)",
        f"{path}, row 2, column Measured power (dBm): not a number: 1e400",
    ]
    assert outcome.applied == 1
    assert states[third].note == "=cmd|' /C calc'!A0"  # stored as text, exported with a '

"""The status sheets agencies fill in: export (XLSX, Persian headers) and bulk import (XLSX/CSV).

Headers are recognised in Persian and English (after normalising digits, letters and spaces);
status values too. Reading never raises on a bad cell: it returns the updates it could read and
a problem (file, row, column) for every cell it could not.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

from pollnet._cells import append_row
from pollnet.errors import Location, Problem, UserError
from pollnet.i18n import format_date, gettext, join_list, normalise, normalise_key, tr
from pollnet.model import Agency
from pollnet.registry import parse_decimal, read_table
from pollnet.rollout.status import STATUSES, OrderState, StatusUpdate
from pollnet.rollout.workorders import WorkOrder, WorkOrderSet
from pollnet.values import parse_date

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("kind", "Work"),
    ("subject", "Subject"),
    ("district", "District"),
    ("quantity", "Quantity"),
    ("unit", "Unit"),
    ("due_on", "Due"),
    ("predecessors", "Waits for"),
    ("status", "Status"),
    ("date", "Date"),
    ("measured_rx_dbm", "Measured power (dBm)"),
    ("note", "Note"),
)
"""(key, English header) of the exported sheet; the header shown is translated."""

_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?")

WIDTHS: Mapping[str, float] = dict(
    zip([k for k, _ in COLUMNS], (26, 22, 28, 8, 10, 8, 12, 30, 16, 12, 14, 30), strict=True)
)
"""Column widths in characters, by key."""

EDITABLE = ("status", "date", "measured_rx_dbm", "note")
STATUS_LABELS: Mapping[str, str] = {
    "planned": "planned",
    "in_progress": "in progress",
    "done": "done",
    "failed": "failed",
    "cancelled": "cancelled",
}
KIND_LABELS: Mapping[str, str] = {
    "permit": "street-works permit",
    "trench": "trenching",
    "restoration": "street restoration",
    "cable_pull": "cable pulling",
    "splice": "splicing",
    "access": "school access and power",
    "ont": "ONT installation",
    "optical_test": "optical test",
    "lte_sim": "LTE backup SIM",
    "device_install": "device installation",
    "e2e_test": "end-to-end test",
}


AGENCY_LABELS: Mapping[str, str] = {
    Agency.MUNICIPALITY.value: "Municipality",
    Agency.TELECOM.value: "Telecommunication company",
    Agency.EDUCATION.value: "Education department",
    Agency.ELECTION_OFFICE.value: "Election office",
}


def status_label(status: str, lang: str | None = None) -> str:
    """A status as people read it."""
    return gettext(STATUS_LABELS.get(status, status), lang)


def agency_label(agency: str, lang: str | None = None) -> str:
    """An agency as people read it."""
    return gettext(AGENCY_LABELS.get(agency, agency), lang)


def kind_label(kind: str, lang: str | None = None) -> str:
    """A kind of work order as people read it."""
    return gettext(KIND_LABELS.get(kind, kind), lang)


def _header_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for key, english in COLUMNS:
        for lang in ("en", "fa"):
            keys[normalise_key(gettext(english, lang))] = key
        keys[normalise_key(key)] = key
    return keys


def _status_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for code, english in STATUS_LABELS.items():
        keys[normalise_key(code)] = code
        keys[normalise_key(english)] = code
        keys[normalise_key(gettext(english, "fa"))] = code
    return keys


def _subject(order: WorkOrder, sites: Mapping[str, tuple[str, str]], lang: str) -> str:
    """What the work is about; a station's work names its school and address too."""
    site = sites.get(order.station or "")
    if site is None:
        return order.subject
    return f"{order.subject} — {join_list(site, lang)}"


def export_sheet(
    path: Path,
    orders: WorkOrderSet,
    states: Mapping[str, OrderState],
    *,
    agency: str | None = None,
    lang: str = "fa",
    sites: Mapping[str, tuple[str, str]] | None = None,
    attribution: str | None = None,
) -> int:
    """Write the status sheet of ``agency`` (all agencies when None) to ``path`` (XLSX).

    ``sites`` (station code -> (site name, address)) puts the school's name and address next
    to the station code of a station's work, so a school's staff can find it. ``attribution``
    (OpenStreetMap's, when the plan's streets came from there) goes on a second sheet, which
    the import does not read. Returns the number of work orders written.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = gettext("Work orders", lang)[:31]
    sheet.sheet_view.rightToLeft = lang == "fa"
    chosen = [o for o in orders if not agency or o.agency == agency]
    # The measured power only means something for optical tests: no column where none is.
    keys = [
        k
        for k, _ in COLUMNS
        if k != "measured_rx_dbm" or any(o.min_rx_dbm is not None for o in chosen)
    ]
    english = dict(COLUMNS)
    append_row(sheet, [gettext(english[k], lang) for k in keys])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for order in chosen:
        state = states.get(order.id) or OrderState(order.id)
        day = state.done_on if state.status in ("done", "failed") else state.started_on
        values = {
            "id": order.id,
            "kind": kind_label(order.kind, lang),
            "subject": _subject(order, sites or {}, lang),
            "district": order.district,
            "quantity": order.quantity,
            "unit": gettext(order.unit, lang),
            "due_on": format_date(state.due_on, lang) if state.due_on else "",
            "predecessors": " ".join(order.predecessors),
            "status": status_label(state.status, lang),
            "date": format_date(day, lang) if day else "",
            "measured_rx_dbm": state.measured_rx_dbm,
            "note": state.note,
        }
        append_row(sheet, [values[k] for k in keys])
    count = len(chosen)
    labels = [status_label(s, lang) for s in STATUSES if s != "cancelled"]
    check = DataValidation(
        type="list",
        formula1=f'"{",".join(labels)}"',
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=gettext("Status", lang),
        error=tr("Choose one of: {choices}", lang, choices=" / ".join(labels)),
    )
    sheet.add_data_validation(check)
    status_col = get_column_letter(keys.index("status") + 1)
    check.add(f"{status_col}2:{status_col}{count + 1}")
    for index, key in enumerate(keys, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[key]
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{count + 1}"
    if attribution:
        about = book.create_sheet(gettext("About", lang)[:31])
        about.sheet_view.rightToLeft = lang == "fa"
        append_row(about, [gettext("street data", lang), attribution])
        about.column_dimensions["A"].width = 28
        about.column_dimensions["B"].width = 70
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return count


def read_updates(path: Path) -> tuple[list[StatusUpdate], list[Problem]]:
    """The status updates in an XLSX or CSV sheet, and a problem for every unreadable cell.

    The sheet is read by the registry's readers (:func:`pollnet.registry.read_table`), with
    their caps on size and columns; an empty cell changes nothing.
    """
    table = read_table(path)
    name = table.file
    known = _header_keys()
    columns: dict[str, int] = {}
    shown: dict[str, str] = {}
    for index, title in enumerate(table.headers):
        key = known.get(normalise_key(title))
        if key:
            columns[key] = index
            shown[key] = title
    missing = [k for k in ("id", "status") if k not in columns]
    if missing:
        raise UserError.of("missing columns: {names}", file=name, names=", ".join(missing))
    statuses = _status_keys()
    dates: dict[str, dt.date] = {}  # sheets repeat the same few dates thousands of times
    updates: list[StatusUpdate] = []
    problems: list[Problem] = [p for row in table.problems.values() for p in row]
    for number, cells in table.rows:
        if number in table.problems:
            continue
        values = {key: cells[index] for key, index in columns.items()}
        if not normalise(values.get("id", "")):
            continue
        found = parse_row(
            values, file=name, row=number, shown=shown, statuses=statuses, dates=dates
        )
        if isinstance(found, StatusUpdate):
            updates.append(found)
        else:
            problems.extend(found)
    return updates, problems


def parse_row(
    cells: Mapping[str, str],
    *,
    file: str,
    row: int | None,
    shown: Mapping[str, str],
    statuses: Mapping[str, str] | None = None,
    dates: dict[str, dt.date] | None = None,
) -> StatusUpdate | list[Problem]:
    """One row of a status sheet (column key -> cell text; a missing key is an empty cell) as
    a status update, or the problems of its cells. ``shown`` names each column as the sheet
    does (for the messages); the web's work-order form goes through here too, so a value is
    read, and refused, exactly as in a sheet."""
    statuses = statuses if statuses is not None else _status_keys()
    dates = dates if dates is not None else {}

    def cell(key: str) -> str:
        return cells.get(key, "")

    order_id = normalise(cell("id"))
    raw_status = normalise(cell("status"))
    status = statuses.get(normalise_key(raw_status), raw_status) if raw_status else None
    day: dt.date | None = None
    raw_day = cell("date").strip()
    if _DATE_TIME.fullmatch(raw_day):  # an XLSX date cell with a time of day
        raw_day = raw_day[:10]
    if raw_day in dates:
        day = dates[raw_day]
    elif raw_day:
        try:
            day = parse_date(raw_day, source=file, row=row, column=shown.get("date"))
        except UserError as exc:
            return list(exc.problems)
        dates[raw_day] = day
    rx: float | None = None
    raw_rx = cell("measured_rx_dbm")
    if raw_rx.strip():
        rx = parse_decimal(normalise(raw_rx).replace("−", "-"))
        if rx is None:
            return [
                Problem(
                    "not a number: {value}",
                    {"value": raw_rx},
                    Location(file, row, shown.get("measured_rx_dbm")),
                )
            ]
    raw_note = cell("note")
    note = normalise(raw_note) if raw_note.strip() else None
    return StatusUpdate(order_id, status, day, rx, note, file=file, row=row, columns=shown)

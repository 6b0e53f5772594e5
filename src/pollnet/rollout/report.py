"""The weekly coordination report: pace per agency and district, this week's work, what is
overdue and what it blocks, stations at risk, with charts; as self-contained HTML and XLSX.

:func:`weekly` computes the figures (pure); :func:`render_html` and :func:`write_xlsx` lay them
out in the chosen language (Persian by default: right to left, Persian digits, Jalali dates).
Charts are inline SVG drawn here, so the HTML needs nothing from the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pollnet._cells import append_row
from pollnet.i18n import format_date, format_number, gettext, tr
from pollnet.rollout.calendar import WorkCalendar
from pollnet.rollout.readiness import STAGES, DistrictReadiness, readiness
from pollnet.rollout.schedule import AtRisk, Forecast
from pollnet.rollout.sheets import AGENCY_LABELS, kind_label, status_label
from pollnet.rollout.status import OPEN, OrderState
from pollnet.rollout.workorders import READY_KIND, WorkOrderSet

STAGE_LABELS: Mapping[str, str] = {
    "planned": "planned",
    "in_progress": "in progress",
    "fiber_ready": "fiber ready",
    "device_verified": "device verified",
}
LIST_LIMIT = 15
BLOCKS_LIMIT = 500
"""What an overdue work order blocks is counted for the oldest this many (a graph walk each)."""


@dataclass(frozen=True)
class Pace:
    """Progress of one agency or district against the pace the deadline requires."""

    key: str
    total: int
    done: int
    done_last_week: int
    remaining: int
    required_per_week: float

    @property
    def on_pace(self) -> bool:
        """Whether last week's output reached the required weekly pace."""
        return self.remaining == 0 or self.done_last_week >= self.required_per_week

    @property
    def percent(self) -> float:
        """Share done, in percent."""
        return 100.0 * self.done / self.total if self.total else 100.0


@dataclass(frozen=True)
class Item:
    """A work order as listed in the report."""

    id: str
    agency: str
    kind: str
    subject: str
    district: int
    day: dt.date | None
    status: str
    blocks_orders: int = 0
    blocks_stations: int = 0


@dataclass(frozen=True)
class WeeklyReport:
    """The figures of one week's report."""

    today: dt.date
    week_end: dt.date
    election_date: dt.date
    deadline: dt.date
    last_ready: dt.date | None
    stations: int
    stages: Mapping[str, int]
    agencies: tuple[Pace, ...]
    districts: tuple[Pace, ...]
    this_week: Mapping[str, tuple[Item, ...]]
    this_week_counts: Mapping[str, int]
    overdue: tuple[Item, ...]
    overdue_count: int
    at_risk: tuple[AtRisk, ...]
    at_risk_count: int
    readiness: tuple[DistrictReadiness, ...]
    weeks: tuple[dt.date, ...]
    done_curve: tuple[int | None, ...]
    forecast_curve: tuple[int, ...]
    total_orders: int


def weekly(
    orders: WorkOrderSet,
    states: Mapping[str, OrderState],
    forecast: Forecast,
    calendar: WorkCalendar,
    today: dt.date,
) -> WeeklyReport:
    """The report for the week starting ``today``."""
    sched = forecast.schedule
    week_end = today + dt.timedelta(days=6)
    week_ago = today - dt.timedelta(days=7)
    weeks_left = max(calendar.working_days_between(today, forecast.deadline), 0.0) / max(
        sum(calendar.weekday_capacity), 1.0
    )

    def pace(key: str, members: Sequence[int]) -> Pace:
        done = last = 0
        for i in members:
            state = states.get(orders.orders[i].id)
            if state is not None and state.status == "done":
                done += 1
                if state.done_on and state.done_on > week_ago:
                    last += 1
        remaining = len(members) - done
        required = remaining / weeks_left if weeks_left > 0 else float(remaining)
        return Pace(key, len(members), done, last, remaining, round(required, 1))

    by_agency: dict[str, list[int]] = {a: [] for a in AGENCY_LABELS}
    by_district: dict[int, list[int]] = {}
    for i, order in enumerate(orders):
        by_agency.setdefault(order.agency, []).append(i)
        by_district.setdefault(order.district, []).append(i)
    agencies = tuple(pace(a, m) for a, m in by_agency.items())
    districts = tuple(pace(str(d), m) for d, m in sorted(by_district.items()))

    this_week: dict[str, list[Item]] = {a: [] for a in by_agency}
    late: list[tuple[dt.date, str]] = []
    for order in orders:
        state = states.get(order.id) or OrderState(order.id)
        if state.status not in OPEN:
            continue
        finish = sched.finish_date(order.id)
        if finish <= week_end:
            this_week[order.agency].append(
                Item(
                    order.id,
                    order.agency,
                    order.kind,
                    order.subject,
                    order.district,
                    finish,
                    state.status,
                )
            )
        if state.due_on and state.due_on < today:
            late.append((state.due_on, order.id))
    late.sort()
    overdue: list[Item] = []
    for due, order_id in late[:BLOCKS_LIMIT]:
        order, state = orders.by_id[order_id], states[order_id]
        after = orders.descendants([order_id])
        stations = sum(1 for a in after if orders.by_id[a].kind == READY_KIND)
        overdue.append(
            Item(
                order_id,
                order.agency,
                order.kind,
                order.subject,
                order.district,
                due,
                state.status,
                len(after),
                stations,
            )
        )
    overdue.sort(key=lambda x: (-x.blocks_stations, -x.blocks_orders, x.id))
    rows = readiness(orders, states, forecast)
    stage_totals = {s: sum(r.counts[s] for r in rows) for s in STAGES}
    weeks, done_curve, forecast_curve = _curves(orders, states, forecast, today)
    return WeeklyReport(
        today=today,
        week_end=week_end,
        election_date=forecast.election_date,
        deadline=forecast.deadline,
        last_ready=sched.last_ready(),
        stations=sum(r.stations for r in rows),
        stages=stage_totals,
        agencies=agencies,
        districts=districts,
        this_week={
            a: tuple(sorted(v, key=lambda x: (x.day or today, x.id))[:LIST_LIMIT])
            for a, v in this_week.items()
        },
        this_week_counts={a: len(v) for a, v in this_week.items()},
        overdue=tuple(overdue[: LIST_LIMIT * 2]),
        overdue_count=len(late),
        at_risk=forecast.at_risk[: LIST_LIMIT * 2],
        at_risk_count=len(forecast.at_risk),
        readiness=tuple(rows),
        weeks=weeks,
        done_curve=done_curve,
        forecast_curve=forecast_curve,
        total_orders=len(orders),
    )


def _curves(
    orders: WorkOrderSet, states: Mapping[str, OrderState], forecast: Forecast, today: dt.date
) -> tuple[tuple[dt.date, ...], tuple[int | None, ...], tuple[int, ...]]:
    """Weekly cumulative work orders done (up to today) and forecast done (from the schedule)."""
    sched = forecast.schedule
    origin = sched.timeline.start
    finish = np.sort(sched.finish_day)
    done_days = np.sort(
        np.array(
            [
                (s.done_on - origin).days
                for s in states.values()
                if s.status == "done" and s.done_on and s.id in orders.by_id
            ],
            dtype=np.int64,
        )
    )
    first = min(int(done_days[0]) if len(done_days) else 0, -7 * 8)
    last = max(int(finish[-1]) if len(finish) else 0, (forecast.election_date - origin).days) + 7
    offsets = np.arange(first, last + 7, 7)
    weeks = tuple(origin + dt.timedelta(days=int(o)) for o in offsets)
    done_counts = np.searchsorted(done_days, offsets, side="right")
    forecast_counts = np.searchsorted(finish, offsets, side="right")
    today_offset = (today - origin).days
    done_curve = tuple(
        int(c) if o <= today_offset else None for o, c in zip(offsets, done_counts, strict=True)
    )
    return weeks, done_curve, tuple(int(c) for c in forecast_counts)


LABEL_CHAR_EM = 0.62
"""A generous average glyph width (em) of Vazirmatn/Tahoma for Latin, Persian and digits."""


def text_width(text: str, font_size: float) -> float:
    """An estimate of how wide ``text`` is drawn at ``font_size`` (SVG user units)."""
    return len(text) * font_size * LABEL_CHAR_EM


@dataclass(frozen=True)
class Label:
    """Where a label of a vertical line goes: its ``x``, ``anchor`` and ``row`` (0, 1, ...)."""

    x: float
    anchor: str
    row: int
    start: float
    end: float


def place_labels(
    items: Sequence[tuple[float, str]], font_size: float, lo: float, hi: float, pad: float = 4.0
) -> list[Label]:
    """Labels for vertical lines at ``x``: each right of its line, or left of it when it would
    pass ``hi``, kept inside ``[lo, hi]``; a label that would overlap one already placed goes
    one row further, so that no two overprint."""
    placed: list[Label] = []
    for x, text in items:
        width = text_width(text, font_size)
        if x + pad + width <= hi:
            start, tx, anchor = x + pad, x + pad, "start"
        elif x - pad - width >= lo:
            start, tx, anchor = x - pad - width, x - pad, "end"
        else:
            start, tx, anchor = max(lo, hi - width), max(lo, hi - width), "start"
        end = start + width
        row = 0
        while any(p.row == row and p.start < end + pad and start < p.end + pad for p in placed):
            row += 1
        placed.append(Label(tx, anchor, row, start, end))
    return placed


def _x(day: dt.date, first: dt.date, last: dt.date, left: float, width: float) -> float:
    span = max((last - first).days, 1)
    return left + width * (day - first).days / span


def progress_chart(report: WeeklyReport, lang: str) -> str:
    """An SVG line chart: work orders done so far, forecast, and the pace the deadline needs."""
    w, h, left, right, top, bottom = 900.0, 320.0, 70.0, 20.0, 20.0, 50.0
    pw, ph = w - left - right, h - top - bottom
    first, last = report.weeks[0], report.weeks[-1]
    total = max(report.total_orders, 1)

    def y(v: float) -> float:
        return top + ph * (1 - v / total)

    def path(points: list[tuple[dt.date, float]]) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{_x(d, first, last, left, pw):.1f},{y(v):.1f}"
            for i, (d, v) in enumerate(points)
        )

    done = [
        (d, float(v)) for d, v in zip(report.weeks, report.done_curve, strict=True) if v is not None
    ]
    fore = [
        (d, float(v))
        for d, v in zip(report.weeks, report.forecast_curve, strict=True)
        if d >= report.today
    ]
    now_done = done[-1][1] if done else 0.0
    pace = [(report.today, now_done), (report.deadline, float(total))]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'class="chart" direction="ltr" font-family="Vazirmatn, Tahoma, sans-serif">'
    ]
    for k in range(5):
        v = total * k / 4
        parts.append(
            f'<line x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{format_number(round(v), lang)}</text>"
        )
    step = max(len(report.weeks) // 8, 1)
    for d in report.weeks[::step]:
        x = _x(d, first, last, left, pw)
        parts.append(
            f'<text x="{x:.1f}" y="{h - bottom + 18}" text-anchor="middle" '
            f'font-size="11">{format_date(d, lang)}</text>'
        )
    marks = (
        (report.deadline, "#e67e22", gettext("deadline", lang)),
        (report.election_date, "#c0392b", gettext("election day", lang)),
    )
    xs = [_x(day, first, last, left, pw) for day, _, _ in marks]
    spots = place_labels([(x, m[2]) for x, m in zip(xs, marks, strict=True)], 11, left, w - 2)
    for x, (_, colour, label), spot in zip(xs, marks, spots, strict=True):
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{h - bottom}" '
            f'stroke="{colour}" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{spot.x:.1f}" y="{top + 12 + 14 * spot.row}" text-anchor="{spot.anchor}" '
            f'font-size="11" fill="{colour}">{label}</text>'
        )
    if fore:
        parts.append(
            f'<path d="{path(fore)}" fill="none" stroke="#2980b9" stroke-width="2" '
            f'stroke-dasharray="6 4"/>'
        )
    parts.append(f'<path d="{path(pace)}" fill="none" stroke="#7f8c8d" stroke-width="1.5"/>')
    if done:
        parts.append(f'<path d="{path(done)}" fill="none" stroke="#27ae60" stroke-width="3"/>')
    legend = (
        ("#27ae60", gettext("done", lang)),
        ("#2980b9", gettext("forecast", lang)),
        ("#7f8c8d", gettext("required pace", lang)),
    )
    for k, (colour, label) in enumerate(legend):
        x = left + 10 + k * 160
        parts.append(
            f'<rect x="{x}" y="{h - 18}" width="14" height="4" fill="{colour}"/>'
            f'<text x="{x + 20}" y="{h - 13}" font-size="12">{label}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def forecast_chart(report: WeeklyReport, lang: str) -> str:
    """An SVG bar chart: each district's forecast ready date against the deadline and election."""
    rows = [r for r in report.readiness if r.forecast]
    bar, gap, left, right, top = 16.0, 6.0, 70.0, 90.0, 24.0
    w = 900.0
    pw = w - left - right
    first = report.today
    last = max([report.election_date, *[r.forecast for r in rows if r.forecast]]) + dt.timedelta(
        days=14
    )
    marks = (
        (
            report.deadline,
            "#e67e22",
            f"{gettext('deadline', lang)} {format_date(report.deadline, lang)}",
        ),
        (
            report.election_date,
            "#c0392b",
            f"{gettext('election day', lang)} {format_date(report.election_date, lang)}",
        ),
    )
    xs = [_x(day, first, last, left, pw) for day, _, _ in marks]
    spots = place_labels([(x, m[2]) for x, m in zip(xs, marks, strict=True)], 11, 2, w - 2)
    h = top + len(rows) * (bar + gap) + 40 + 14 * max(spot.row for spot in spots)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" '
        f'class="chart" direction="ltr" font-family="Vazirmatn, Tahoma, sans-serif">'
    ]
    for k, row in enumerate(rows):
        assert row.forecast is not None
        yy = top + k * (bar + gap)
        x = _x(max(row.forecast, first), first, last, left, pw)
        colour = "#c0392b" if row.forecast > report.deadline else "#27ae60"
        label = tr("district {number}", lang, number=row.district)
        parts.append(
            f'<text x="{left - 6}" y="{yy + bar - 4}" text-anchor="end" font-size="11">'
            f"{label}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{yy}" width="{max(x - left, 1):.1f}" height="{bar}" '
            f'fill="{colour}" opacity="0.8"/>'
        )
        parts.append(
            f'<text x="{x + 4:.1f}" y="{yy + bar - 4}" font-size="10">'
            f"{format_date(row.forecast, lang)}</text>"
        )
    bottom = top + len(rows) * (bar + gap)
    for x, (_, colour, text), spot in zip(xs, marks, spots, strict=True):
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 8}" y2="{bottom}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{spot.x:.1f}" y="{bottom + 16 + 14 * spot.row}" '
            f'text-anchor="{spot.anchor}" font-size="11" fill="{colour}">{text}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: WeeklyReport, lang: str = "fa") -> str:
    """The report as one self-contained HTML page."""
    from pollnet import _html

    return _html.template("pollnet.rollout", "weekly.html.j2").render(**_context(report, lang))


def _context(report: WeeklyReport, lang: str) -> dict[str, Any]:
    from markupsafe import Markup

    return {
        "r": report,
        "lang": lang,
        "dir": "rtl" if lang == "fa" else "ltr",
        "t": lambda msg, **kw: tr(msg, lang, **kw),
        "num": lambda v, d=None: format_number(v, lang, d),
        "date": lambda d: format_date(d, lang) if d else "—",
        "agency": lambda a: gettext(AGENCY_LABELS.get(a, a), lang),
        "kind": lambda k: kind_label(k, lang),
        "status": lambda s: status_label(s, lang),
        "stage": lambda s: gettext(STAGE_LABELS[s], lang),
        "stages": STAGES,
        "pace_by_district": {p.key: p for p in report.districts},
        "progress_svg": Markup(progress_chart(report, lang)),
        "forecast_svg": Markup(forecast_chart(report, lang)),
    }


def write_xlsx(report: WeeklyReport, path: Path, lang: str = "fa") -> None:
    """The report's tables as an XLSX workbook, one sheet per section."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    def g(message: str) -> str:
        return gettext(message, lang)

    def pace_section(
        title: str, first: str, paces: Sequence[Pace], label: Callable[[str], object]
    ) -> tuple[str, list[str], list[list[object]]]:
        headers = ["Total", "Done", "Done last week", "Remaining", "Required per week", "On pace"]
        rows: list[list[object]] = [
            [
                label(p.key),
                p.total,
                p.done,
                p.done_last_week,
                p.remaining,
                p.required_per_week,
                g("yes" if p.on_pace else "no"),
            ]
            for p in paces
        ]
        return g(title), [g(first), *map(g, headers)], rows

    book = Workbook()
    sections: list[tuple[str, list[str], list[list[object]]]] = [
        pace_section("Agencies", "Agency", report.agencies, lambda k: g(AGENCY_LABELS.get(k, k))),
        pace_section("Districts", "District", report.districts, int),
        (
            g("Readiness"),
            [
                g("District"),
                g("Stations"),
                *[g(STAGE_LABELS[s]) for s in STAGES],
                g("Forecast"),
                g("At risk"),
            ],
            [
                [
                    r.district,
                    r.stations,
                    *[r.counts[s] for s in STAGES],
                    format_date(r.forecast, lang) if r.forecast else "",
                    r.at_risk,
                ]
                for r in report.readiness
            ],
        ),
        (
            g("This week"),
            [
                g("Agency"),
                g("ID"),
                g("Work"),
                g("Subject"),
                g("District"),
                g("Forecast"),
                g("Status"),
            ],
            [
                [
                    g(AGENCY_LABELS.get(i.agency, i.agency)),
                    i.id,
                    kind_label(i.kind, lang),
                    i.subject,
                    i.district,
                    format_date(i.day, lang) if i.day else "",
                    status_label(i.status, lang),
                ]
                for items in report.this_week.values()
                for i in items
            ],
        ),
        (
            g("Overdue"),
            [
                g("ID"),
                g("Agency"),
                g("Work"),
                g("District"),
                g("Due"),
                g("Blocks work orders"),
                g("Blocks stations"),
            ],
            [
                [
                    i.id,
                    g(AGENCY_LABELS.get(i.agency, i.agency)),
                    kind_label(i.kind, lang),
                    i.district,
                    format_date(i.day, lang) if i.day else "",
                    i.blocks_orders,
                    i.blocks_stations,
                ]
                for i in report.overdue
            ],
        ),
        (
            g("At risk"),
            [g("Station"), g("District"), g("Forecast"), g("Chain")],
            [
                [
                    a.station,
                    a.district,
                    format_date(a.ready, lang),
                    " → ".join(link.order_id for link in a.chain),
                ]
                for a in report.at_risk
            ],
        ),
    ]
    book.remove(book.active)
    for title, header, rows in sections:
        sheet = book.create_sheet(title[:31])
        sheet.sheet_view.rightToLeft = lang == "fa"
        append_row(sheet, header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            append_row(sheet, row)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = 18
        sheet.freeze_panes = "A2"  # the header stays in view
        sheet.auto_filter.ref = sheet.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)

"""The weekly report: figures, Persian HTML with inline SVG charts, the XLSX workbook."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pollnet.rollout.readiness import readiness, station_stages
from pollnet.rollout.report import render_html, weekly, write_xlsx
from pollnet.rollout.schedule import forecast
from pollnet.rollout.status import OrderState
from pollnet.rollout.templates import load_config
from pollnet.rollout.workorders import WorkOrderSet, generate
from tests.rollout.plans import two_stations

TODAY = dt.date(2026, 11, 29)
DAY = dt.date(2026, 11, 25)


def done(order_id: str) -> OrderState:
    return OrderState(order_id, "done", DAY, DAY)


@pytest.fixture(scope="module")
def orders() -> WorkOrderSet:
    return generate(two_stations())


def progressed(orders: WorkOrderSet) -> dict[str, OrderState]:
    """Station A fiber ready; B's permit overdue."""
    states = {a: done(a) for a in orders.ancestors("ST-A-OTEST")} | {
        "ST-A-OTEST": done("ST-A-OTEST")
    }
    states["PM-03-enghelab"] = OrderState("PM-03-enghelab", due_on=DAY)
    return states


def test_station_stages(orders: WorkOrderSet) -> None:
    assert station_stages(orders, {}) == {"A": "planned", "B": "planned"}
    states = progressed(orders)
    assert station_stages(orders, states) == {"A": "fiber_ready", "B": "in_progress"}
    states["ST-A-E2E"] = done("ST-A-E2E")
    assert station_stages(orders, states)["A"] == "device_verified"


def test_readiness_by_district(orders: WorkOrderSet) -> None:
    result = forecast(orders, load_config(), TODAY, dt.date(2028, 2, 25), progressed(orders))
    [row] = readiness(orders, progressed(orders), result)
    assert row.district == 3 and row.stations == 2
    assert row.counts == {"planned": 0, "in_progress": 1, "fiber_ready": 1, "device_verified": 0}
    assert row.forecast == result.schedule.district_ready()[3]


def test_weekly_figures(orders: WorkOrderSet) -> None:
    states = progressed(orders)
    config = load_config()
    result = forecast(orders, config, TODAY, dt.date(2028, 2, 25), states)
    report = weekly(orders, states, result, config.calendar, TODAY)
    telecom = next(p for p in report.agencies if p.key == "telecom")
    assert telecom.done == sum(
        1 for k, s in states.items() if s.status == "done" and orders.by_id[k].agency == "telecom"
    )
    assert telecom.done_last_week == telecom.done  # all done on DAY, within the week
    [late] = report.overdue
    assert late.id == "PM-03-enghelab" and late.blocks_stations == 1 and late.blocks_orders > 3
    assert report.stages["fiber_ready"] == 1
    this_week = {i.id for items in report.this_week.values() for i in items}
    assert "ST-A-E2E" not in this_week or result.schedule.finish_date("ST-A-E2E") <= report.week_end
    assert report.done_curve[0] is not None and report.forecast_curve[-1] == len(orders)


def test_persian_html_and_xlsx(orders: WorkOrderSet, tmp_path: Path) -> None:
    states = progressed(orders)
    config = load_config()
    result = forecast(orders, config, TODAY, dt.date(2026, 12, 20), states)
    report = weekly(orders, states, result, config.calendar, TODAY)
    assert report.at_risk_count >= 1
    html = render_html(report, "fa")
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    assert "گزارش هفتگی اجرای شبکه" in html
    assert "۱۴۰۵/۰۹/۰۸" in html  # today in Jalali, Persian digits
    assert html.count("<svg") == 2 and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "PM-03-enghelab" in html
    english = render_html(dataclasses.replace(report), "en")
    assert 'dir="ltr"' in english and "Weekly rollout report" in english and "2026-11-29" in english
    path = tmp_path / "weekly.xlsx"
    write_xlsx(report, path, "fa")
    book = load_workbook(path)
    assert book.sheetnames == ["دستگاه‌ها", "مناطق", "آمادگی", "این هفته", "گذشته از موعد", "در خطر"]
    assert book["گذشته از موعد"]["A2"].value == "PM-03-enghelab"
    for sheet in book.worksheets:  # the header stays in view and filters every column
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == sheet.dimensions


def _chart_labels(svg: str, words: tuple[str, ...]) -> list[tuple[float, float, str, str]]:
    import re

    found = []
    for m in re.finditer(r'<text x="([\d.]+)" y="([\d.]+)"([^>]*)>([^<]*)</text>', svg):
        if any(word in m.group(4) for word in words):
            anchor = re.search(r'text-anchor="(\w+)"', m.group(3))
            where = (float(m.group(1)), float(m.group(2)))
            found.append((*where, anchor.group(1) if anchor else "start", m.group(4)))
    return found


@pytest.mark.parametrize("lang", ["fa", "en"])
@pytest.mark.parametrize("election", [dt.date(2026, 12, 20), dt.date(2027, 2, 10)])
def test_deadline_and_election_day_labels_neither_overprint_nor_leave_the_chart(
    orders: WorkOrderSet, lang: str, election: dt.date
) -> None:
    import re

    from pollnet.i18n import gettext
    from pollnet.rollout.report import forecast_chart, progress_chart, text_width

    config = load_config()
    result = forecast(orders, config, TODAY, election, progressed(orders))
    report = weekly(orders, progressed(orders), result, config.calendar, TODAY)
    words = (gettext("deadline", lang), gettext("election day", lang))
    for svg in (progress_chart(report, lang), forecast_chart(report, lang)):
        view = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
        assert view is not None
        width, height = float(view.group(1)), float(view.group(2))
        spans = []
        for x, y, anchor, text in _chart_labels(svg, words):
            w = text_width(text, 11)
            start = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
            assert start >= 0 and start + w <= width, (text, start, w, width)
            assert 0 < y <= height
            spans.append((y, start, start + w))
        assert len(spans) == 2
        (y1, a1, b1), (y2, a2, b2) = spans
        assert y1 != y2 or b1 <= a2 or b2 <= a1, spans  # not on top of each other


def test_labels_of_close_lines_near_the_edge_take_two_rows() -> None:
    from pollnet.rollout.report import place_labels

    first, second = place_labels([(880.0, "deadline"), (890.0, "election day")], 11, 70, 898)
    assert first.anchor == second.anchor == "end"  # no room on the right: left of the line
    assert {first.row, second.row} == {0, 1}
    assert first.start >= 70 and second.end <= 898

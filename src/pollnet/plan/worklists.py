"""Per-agency work lists as XLSX workbooks, with Persian or English headers.

* the municipality: street works by municipal district and street name (lengths in metres,
  method, restoration and permits, cost in rials), and every segment;
* the telecom company: cable runs, the bill of materials with cost totals (rials and US
  dollars), exchanges and splice points;
* the education department: the schools (sites) with what is installed in each (ONTs, devices,
  power outlets) and every station.

Each list ends with a totals row. Persian workbooks are right-to-left. Workbooks are streamed by
:mod:`pollnet.plan._xlsx` (each row goes into the file as it is written, every cell style made
once per workbook), so a whole city's three lists take a second or two.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pollnet.i18n import format_date, gettext, tr
from pollnet.model import Station
from pollnet.plan._xlsx import Style, XlsxBook
from pollnet.plan.costs import PERMIT_METHODS
from pollnet.plan.model import Plan, StationPlan, TrenchSegment
from pollnet.plan.refs import PlanRefs
from pollnet.streets.classes import street_class_label

__all__ = [
    "AGENCIES",
    "restoration_rial",
    "write_education",
    "write_municipality",
    "write_telecom",
    "write_worklists",
]

AGENCIES: tuple[str, ...] = ("municipality", "telecom", "education")
"""The agencies that get a work list, in the order :func:`write_worklists` writes them."""

_STREET_WORK_METHODS = ("open_trench", "micro_trench", "aerial", "existing_duct")
"""Methods that mean work in the street (existing fiber and building drops are not)."""

_LENGTH = "#,##0.0"
_MONEY = "#,##0"
_USD = "#,##0.00"
_COUNT = "#,##0"
_HEADER_FILL = "DDE5F0"
_TOTAL_FILL = "F2F2F2"

METHOD_LABELS: Mapping[str, str] = {
    "open_trench": "open trench",
    "micro_trench": "micro-trench",
    "aerial": "aerial (poles)",
    "existing_duct": "existing duct",
    "existing_fiber": "existing fiber",
    "drop": "building drop",
}
"""English msgids of the trench methods."""


@dataclass(frozen=True)
class _Column:
    """A column: its header msgid, width in characters and number format (None: text)."""

    header: str
    width: float = 14
    number_format: str | None = None


def restoration_rial(segment: TrenchSegment, cost_model: Mapping[str, Any]) -> float:
    """Street restoration for ``segment`` in rials: the cost model's rate per metre for its
    method and street class (or ``other``) times its length; 0 when the method restores nothing."""
    table = cost_model.get("restoration", {}).get(segment.method, {})
    rate = table.get(segment.street_class, table.get("other", 0.0))
    return float(rate) * segment.length_m


class _Book:
    """A work-list workbook being written: sheets one after another, styles made once."""

    def __init__(self, path: Path, lang: str, attribution: str | None = None) -> None:
        self.path = path
        self.lang = lang
        self.attribution = attribution
        self.xlsx = XlsxBook(path)

    def sheet(self, title: str, columns: Sequence[_Column]) -> _Sheet:
        return _Sheet(self, title, columns)

    def save(self) -> Path:
        return self.xlsx.close()


class _Sheet:
    """A sheet with a bold header row and typed columns, written row by row."""

    def __init__(self, book: _Book, title: str, columns: Sequence[_Column]) -> None:
        lang, xlsx = book.lang, book.xlsx
        self.ws = xlsx.add_sheet(
            gettext(title, lang)[:31],
            [c.width for c in columns],
            right_to_left=lang == "fa",
            freeze_first_row=True,
            autofilter=True,
        )
        header = xlsx.style(Style(bold=True, fill=_HEADER_FILL, wrap=True))
        self.ws.row([gettext(c.header, lang) for c in columns], [header] * len(columns))
        self._plain = [xlsx.style(Style(c.number_format)) for c in columns]
        self._total = [
            xlsx.style(Style(c.number_format, bold=True, fill=_TOTAL_FILL)) for c in columns
        ]

    def row(self, values: Sequence[Any], *, total: bool = False) -> None:
        self.ws.row(values, self._total if total else self._plain, filtered=not total)


def _about(wb: _Book, plan: Plan, lang: str, title: str) -> None:
    """A first sheet naming the plan: title, id, date and inputs digest, and the attribution
    the street data asks for (OpenStreetMap's, when the streets came from there)."""
    sheet = wb.sheet("About", (_Column("what", 28), _Column("value", 70)))
    created = plan.created_at.date()
    for label, value in (
        ("work list", gettext(title, lang)),
        ("plan", plan.id or ""),
        ("date", format_date(created, lang)),
        ("inputs digest", plan.inputs_digest),
        *((("street data", wb.attribution),) if wb.attribution else ()),
    ):
        sheet.row([gettext(label, lang), value])


# -- municipality --------------------------------------------------------------------------


def write_municipality(
    plan: Plan, path: Path, lang: str = "fa", *, attribution: str | None = None
) -> Path:
    """The municipality's street works: by district and street, then every segment.

    ``attribution`` (e.g. OpenStreetMap's) is what the street data asks to be credited with.
    """
    wb = _Book(path, lang, attribution)
    _about(wb, plan, lang, "Street works for the municipality")
    works = [t for t in plan.trenches if t.method in _STREET_WORK_METHODS]
    restore = {t.id: restoration_rial(t, plan.cost_model) for t in works}
    groups: dict[tuple[int, str, str, str, str], list[TrenchSegment]] = defaultdict(list)
    for t in works:
        groups[(t.district, t.street_name, t.street_name_en, t.street_class, t.method)].append(t)

    summary = wb.sheet(
        "Street works",
        (
            _Column("municipal district", 10, _COUNT),
            _Column("street", 24),
            _Column("street (English)", 24),
            _Column("street class", 12),
            _Column("method", 16),
            _Column("segments", 10, _COUNT),
            _Column("length (m)", 12, _LENGTH),
            _Column("permits", 10, _COUNT),
            _Column("restoration (rials)", 18, _MONEY),
            _Column("cost (rials)", 18, _MONEY),
        ),
    )
    by_district: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0, 0.0])
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3], k[4])):
        district, name, name_en, cls, method = key
        segments = groups[key]
        streets = len({t.street_segment for t in segments})  # pieces of one segment count once
        length = sum(t.length_m for t in segments)
        permits = streets if method in PERMIT_METHODS else 0
        restoration = sum(restore[t.id] for t in segments)
        cost = sum(t.cost_rial for t in segments)
        sums = by_district[district]
        for i, v in enumerate((streets, length, permits, restoration, cost)):
            sums[i] += v
        summary.row(
            [
                district,
                name,
                name_en,
                street_class_label(cls, lang),
                gettext(METHOD_LABELS[method], lang),
                streets,
                round(length, 1),
                permits,
                round(restoration),
                round(cost),
            ]
        )
    grand = [sum(v[i] for v in by_district.values()) for i in range(5)]
    for district in sorted(by_district):
        sums = by_district[district]
        label = tr("total of district {district}", lang, district=district)
        summary.row([district, label, "", "", "", *_rounded(sums)], total=True)
    summary.row([None, gettext("total", lang), "", "", "", *_rounded(grand)], total=True)

    refs = PlanRefs(plan)
    detail = wb.sheet(
        "Segments",
        (
            _Column("segment", 14),
            _Column("street segment", 10, _COUNT),
            _Column("municipal district", 10, _COUNT),
            _Column("street", 24),
            _Column("street class", 12),
            _Column("method", 16),
            _Column("length (m)", 12, _LENGTH),
            _Column("restoration (rials)", 18, _MONEY),
            _Column("cost (rials)", 18, _MONEY),
            _Column("from (lat, lon)", 24),
            _Column("to (lat, lon)", 24),
        ),
    )
    for t in sorted(works, key=lambda t: (t.district, t.street_name, t.id)):
        detail.row(
            [
                refs.trench[t.id],
                t.street_segment,
                t.district,
                t.street_name or t.street_name_en,
                street_class_label(t.street_class, lang),
                gettext(METHOD_LABELS[t.method], lang),
                round(t.length_m, 1),
                round(restore[t.id]),
                round(t.cost_rial),
                _point(t.coords[0]),
                _point(t.coords[-1]),
            ]
        )
    detail.row(
        [
            None,
            None,
            None,
            gettext("total", lang),
            "",
            "",
            round(grand[1], 1),
            round(grand[3]),
            round(grand[4]),
            "",
            "",
        ],
        total=True,
    )
    return wb.save()


def _rounded(sums: Sequence[float]) -> list[float]:
    count, length, permits, restoration, cost = sums
    return [int(count), round(length, 1), int(permits), round(restoration), round(cost)]


def _point(p: tuple[float, float]) -> str:
    """A ``(lon, lat)`` point written ``"lat, lon"``, the order map searches expect."""
    return f"{p[1]:.6f}, {p[0]:.6f}"


# -- telecom --------------------------------------------------------------------------------


def write_telecom(
    plan: Plan, path: Path, lang: str = "fa", *, attribution: str | None = None
) -> Path:
    """The telecom company's cable runs, bill of materials, exchanges, splices and totals."""
    wb = _Book(path, lang, attribution)
    _about(wb, plan, lang, "Cable works and bill of materials for the telecom company")
    rate = plan.totals.usd_rate
    usd = (lambda rial: round(rial / rate, 2)) if rate else (lambda rial: None)

    bom = wb.sheet(
        "Bill of materials",
        (
            _Column("item", 44),
            _Column("unit", 8),
            _Column("quantity", 12, _LENGTH),
            _Column("unit cost (rials)", 16, _MONEY),
            _Column("total (rials)", 20, _MONEY),
            _Column("total (US dollars)", 16, _USD),
        ),
    )
    for line in plan.bom:
        bom.row(
            [
                line.render(lang),
                gettext(line.unit, lang),
                line.quantity,
                line.unit_cost_rial,
                line.total_rial,
                usd(line.total_rial),
            ]
        )
    total = sum(line.total_rial for line in plan.bom)
    bom.row([gettext("total", lang), "", None, None, total, usd(total)], total=True)

    refs = PlanRefs(plan)
    runs = wb.sheet(
        "Cable runs",
        (
            _Column("cable run", 18),
            _Column("exchange", 10),
            _Column("cores", 8, _COUNT),
            _Column("fibers used", 9, _COUNT),
            _Column("length (m)", 12, _LENGTH),
            _Column("stations downstream", 12, _COUNT),
            _Column("second route", 10),
            _Column("existing fiber", 10),
            _Column("trench segments", 40),
        ),
    )
    for r in plan.cable_runs:
        runs.row(
            [
                refs.cable_run[r.id],
                r.exchange,
                r.cores,
                r.fibers_used,
                round(r.length_m, 1),
                r.stations_downstream,
                gettext("yes" if r.redundant else "no", lang),
                gettext("yes" if r.existing else "no", lang),
                refs.trenches(r.trench_ids),
            ]
        )
    runs.row(
        [
            None,
            gettext("total", lang),
            None,
            None,
            round(sum(r.length_m for r in plan.cable_runs), 1),
            None,
            "",
            "",
            "",
        ],
        total=True,
    )

    exchanges = wb.sheet(
        "Exchanges",
        (
            _Column("exchange", 10),
            _Column("name", 28),
            _Column("PON ports", 10, _COUNT),
            _Column("ports used", 10, _COUNT),
            _Column("stations", 10, _COUNT),
        ),
    )
    for x in plan.exchanges:
        exchanges.row([x.code, x.name, x.pon_ports, x.ports_used, x.stations])
    exchanges.row(
        [
            gettext("total", lang),
            "",
            sum(x.pon_ports for x in plan.exchanges),
            sum(x.ports_used for x in plan.exchanges),
            sum(x.stations for x in plan.exchanges),
        ],
        total=True,
    )

    splices = wb.sheet(
        "Splice points",
        (
            _Column("splice point", 9, _COUNT),
            _Column("kind", 12),
            _Column("split", 8, _COUNT),
            _Column("exchange", 10),
            _Column("longitude", 12),
            _Column("latitude", 12),
            _Column("cable runs", 40),
        ),
    )
    for p in plan.splices:
        splices.row(
            [
                p.id,
                gettext("splitter" if p.kind == "splitter" else "splice closure", lang),
                p.split or None,
                p.exchange,
                round(p.lon, 7),
                round(p.lat, 7),
                refs.cable_runs(p.cable_run_ids),
            ]
        )

    _totals_sheet(wb, plan, lang)
    return wb.save()


def _totals_sheet(wb: _Book, plan: Plan, lang: str) -> None:
    t = plan.totals
    sheet = wb.sheet("Totals", (_Column("what", 36), _Column("value", 22, _USD)))
    for label, value in (
        ("Stations", t.stations),
        ("Connected", t.connected),
        ("Not connected", t.flagged),
        ("Flagged for review", len(plan.for_review)),
        ("trench (m)", round(t.trench_m, 1)),
        ("cable (m)", round(t.cable_m, 1)),
        ("total cost (rials)", round(t.cost_rial)),
        ("of which second routes (rials)", round(t.redundancy_cost_rial)),
        ("total cost (US dollars)", round(t.cost_usd, 2)),
        ("rials per US dollar", t.usd_rate),
    ):
        sheet.row([gettext(label, lang), value])


# -- education --------------------------------------------------------------------------------


def write_education(
    plan: Plan,
    path: Path,
    lang: str = "fa",
    stations: Iterable[Station] = (),
    *,
    attribution: str | None = None,
) -> Path:
    """The education department's schools with what goes into each, then every station.

    ``stations`` (the registry's, optional) supplies each station's number of devices; without
    them the device and power columns count ONTs only. Power outlets: one per ONT and device.
    """
    wb = _Book(path, lang, attribution)
    _about(wb, plan, lang, "Installations in schools for the education department")
    devices = {s.code: s.devices for s in stations}
    addresses = {s.site: s.address for s in stations}
    by_site: dict[str, list[StationPlan]] = defaultdict(list)
    for s in plan.stations:
        by_site[s.site or s.code].append(s)

    schools = wb.sheet(
        "Schools",
        (
            _Column("municipal district", 10, _COUNT),
            _Column("school", 28),
            _Column("address", 30),
            _Column("stations", 8, _COUNT),
            _Column("station codes", 28),
            _Column("ONTs", 8, _COUNT),
            _Column("devices", 8, _COUNT),
            _Column("power outlets", 10, _COUNT),
            _Column("exchange", 10),
            _Column("building drop (m)", 12, _LENGTH),
            _Column("status", 14),
            _Column("needs review", 40),
        ),
    )
    sums = [0, 0, 0, 0]
    ordered = sorted(by_site.items(), key=lambda kv: (kv[1][0].district, kv[0]))
    for site, members in ordered:
        connected = [s for s in members if s.status == "connected"]
        onts = len(connected)
        n_devices = sum(devices.get(s.code, 0) for s in connected)
        outlets = onts + n_devices
        counts = (len(members), onts, n_devices, outlets)
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        flagged = [s for s in members if s.flags]
        exchanges = sorted({s.exchange for s in members if s.exchange})
        schools.row(
            [
                members[0].district,
                site,
                addresses.get(site, ""),
                len(members),
                " ".join(s.code for s in members),
                onts,
                n_devices if devices else None,
                outlets,
                " ".join(exchanges),
                round(max((s.drop_length_m for s in members), default=0.0), 1),
                gettext("connected" if len(connected) == len(members) else "needs review", lang),
                " | ".join(f"{s.code}: {f.render(lang)}" for s in flagged for f in s.flags),
            ]
        )
    schools.row(
        [
            None,
            gettext("total", lang),
            "",
            sums[0],
            "",
            sums[1],
            sums[2] if devices else None,
            sums[3],
            "",
            None,
            "",
            "",
        ],
        total=True,
    )

    each = wb.sheet(
        "Stations",
        (
            _Column("station", 10),
            _Column("name", 20),
            _Column("school", 28),
            _Column("municipal district", 10, _COUNT),
            _Column("status", 14),
            _Column("exchange", 10),
            _Column("ONTs", 8, _COUNT),
            _Column("devices", 8, _COUNT),
            _Column("critical", 8),
            _Column("needs review", 50),
        ),
    )
    for s in sorted(plan.stations, key=lambda s: s.code):
        each.row(
            [
                s.code,
                s.name,
                s.site,
                s.district,
                gettext(s.status, lang),
                s.exchange or "",
                1 if s.status == "connected" else 0,
                devices.get(s.code) if devices else None,
                gettext("yes" if s.critical else "no", lang),
                " | ".join(f.render(lang) for f in s.flags),
            ]
        )
    return wb.save()


def write_worklists(
    plan: Plan,
    folder: Path,
    lang: str = "fa",
    stations: Iterable[Station] = (),
    *,
    attribution: str | None = None,
) -> dict[str, Path]:
    """All three work lists in ``folder`` as ``<agency>-<lang>.xlsx``; returns them by agency.

    Each carries ``attribution`` on its *About* sheet (OpenStreetMap's, for OSM streets).
    """
    stations = tuple(stations)
    credit = {"attribution": attribution}
    return {
        "municipality": write_municipality(
            plan, folder / f"municipality-{lang}.xlsx", lang, **credit
        ),
        "telecom": write_telecom(plan, folder / f"telecom-{lang}.xlsx", lang, **credit),
        "education": write_education(
            plan, folder / f"education-{lang}.xlsx", lang, stations, **credit
        ),
    }

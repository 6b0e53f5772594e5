"""The site review as workbooks: one XLSX file per education district, for its officer.

Each workbook has two sheets: every station of the district (its marginal cost, LTE backup,
distance to fibre, the best saving nearby) and every cheaper candidate building (its station,
distance, capacity, cost and saving). Headers and classes are in the chosen language, right to
left in Persian (the default). An officer gets the file of their own district only.
"""

from __future__ import annotations

from pathlib import Path

from pollnet.i18n import gettext
from pollnet.plan._xlsx import Style, XlsxBook, XlsxSheet
from pollnet.sites.review import SiteReview, StationReview

__all__ = ["BACKUP_LABELS", "district_file", "write_district_books"]

BACKUP_LABELS = {"good": "good", "usable": "usable", "none": "no backup"}
"""English msgids of the LTE backup classes in the sheets."""

_STATION_HEADERS = (
    "station", "name", "school", "voters", "critical", "marginal cost (rials)", "LTE backup",
    "distance to fibre (m)", "cheaper buildings", "best saving (rials)",
)  # fmt: skip
_STATION_WIDTHS = (12, 16, 24, 9, 8, 18, 12, 14, 12, 18)
_BUILDING_HEADERS = (
    "station", "building", "name", "distance (m)", "capacity", "holds the voters",
    "cost to connect (rials)", "saving (rials)", "optical budget",
)  # fmt: skip
_BUILDING_WIDTHS = (12, 14, 24, 12, 10, 12, 20, 18, 12)
_RIALS = "#,##0"


def district_file(folder: Path, district: int | None, lang: str) -> Path:
    """The workbook of ``district`` in ``folder``: ``sites-review-<district>-<lang>.xlsx``
    (``none`` for the stations without an education district)."""
    name = "none" if district is None else str(district)
    return folder / f"sites-review-{name}-{lang}.xlsx"


def write_district_books(review: SiteReview, folder: Path, lang: str = "fa") -> dict[str, Path]:
    """One workbook per education district of ``review`` into ``folder``; returns them by
    district (``"none"`` for the stations without one)."""
    written: dict[str, Path] = {}
    for district, stations in review.by_education_district().items():
        path = district_file(folder, district, lang)
        _write_book(path, stations, lang)
        written["none" if district is None else str(district)] = path
    return written


def _yes(value: bool | None, lang: str) -> str:
    return "" if value is None else gettext("yes" if value else "no", lang)


def _sheet(
    book: XlsxBook,
    title: str,
    headers: tuple[str, ...],
    widths: tuple[int, ...],
    lang: str,
    style: int,
) -> XlsxSheet:
    """A sheet titled and headed in ``lang`` (right to left in Persian), its header row
    frozen and filtered."""
    sheet = book.add_sheet(
        gettext(title, lang)[:31], widths, right_to_left=lang == "fa", freeze_first_row=True,
        autofilter=True,
    )  # fmt: skip
    sheet.row([gettext(h, lang) for h in headers], [style] * len(headers))
    return sheet


def _write_book(path: Path, stations: tuple[StationReview, ...], lang: str) -> None:
    book = XlsxBook(path)
    header = book.style(Style(bold=True, wrap=True))
    rials = book.style(Style(_RIALS))
    sheet = _sheet(book, "stations", _STATION_HEADERS, _STATION_WIDTHS, lang, header)
    for s in stations:
        sheet.row(
            [
                s.code, s.name, s.site, s.voters, _yes(s.critical, lang),
                None if s.marginal_rial is None else round(s.marginal_rial),
                "" if s.backup is None else gettext(BACKUP_LABELS[s.backup], lang),
                None if s.fibre_m is None else round(s.fibre_m),
                len(s.cheaper),
                round(s.best_saving_rial) if s.cheaper else None,
            ],
            [0, 0, 0, 0, 0, rials, 0, 0, 0, rials],
        )  # fmt: skip
    sheet = _sheet(book, "cheaper buildings", _BUILDING_HEADERS, _BUILDING_WIDTHS, lang, header)
    for s in stations:
        for c in s.cheaper:
            sheet.row(
                [
                    s.code, c.code, c.name, round(c.distance_m), c.capacity,
                    _yes(c.holds(s.voters), lang), round(c.connect_rial), round(c.saving_rial),
                    gettext("passes" if c.budget_ok else "fails", lang),
                ],
                [0, 0, 0, 0, 0, 0, rials, rials, 0],
            )  # fmt: skip
    book.close()

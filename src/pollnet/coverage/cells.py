"""Temporary LTE cells for the stations without usable backup: the fewest sites per operator.

For every station whose LTE backup class is ``none`` (:func:`pollnet.coverage.lte_backup`),
each operator is asked for temporary cells (cells on wheels, rooftop sites) that give it a
usable signal. The candidate positions are the stations' own sites, the operator's existing
tower sites and an optional list of candidate sites; a temporary cell of the configured height
and transmit power covers a station when the coverage model's RSRP there (the same path loss,
antenna and indoor loss as the backup estimate) reaches ``usable_dbm``.

Choosing the fewest sites is a set cover. It is solved exactly as an integer program on HiGHS
when that proves optimality within the time budget; otherwise the greedy cover is used (each
step the site covering the most critical stations still uncovered, then the most stations) and
the LP relaxation's rounded-up value is given as a lower bound, so the reader knows how far
from the optimum it can be. Stations no candidate reaches are listed apart. Critical stations
come first: in the greedy order, and in each site's list.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from pollnet._cells import CsvWriter
from pollnet._highs import quiet_highs
from pollnet.coverage.backup import Located, RadioSettings, StationBackup, _plane
from pollnet.coverage.pathloss import uma_nlos_db
from pollnet.errors import ConfigError
from pollnet.model import RadioType, Tower
from pollnet.settings import reject_unknown

SiteKind = Literal["station", "tower", "candidate"]
Method = Literal["exact", "greedy"]


@dataclass(frozen=True)
class CandidateSite:
    """A position where a temporary cell could stand (WGS84 degrees)."""

    code: str
    kind: SiteKind
    lat: float
    lon: float


@dataclass(frozen=True)
class CellSite:
    """A chosen temporary cell site and the stations it covers (critical ones first)."""

    code: str
    kind: SiteKind
    lat: float
    lon: float
    stations: tuple[str, ...]
    critical: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OperatorCells:
    """One operator's temporary cells.

    ``method`` is ``exact`` (HiGHS proved the number of sites the fewest possible) or
    ``greedy``, with ``lower_bound`` the fewest sites any cover could have (the LP bound).
    ``uncovered`` are the stations no candidate site reaches with the configured cell.
    """

    operator: str
    sites: tuple[CellSite, ...]
    method: Method
    lower_bound: int
    uncovered: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "operator": self.operator,
            "method": self.method,
            "sites": len(self.sites),
            "lower_bound": self.lower_bound,
            "uncovered": list(self.uncovered),
            "cells": [s.as_dict() for s in self.sites],
        }


@dataclass(frozen=True)
class CellSettings:
    """A temporary cell: its antenna height (metres above ground) and transmit power (dBm)."""

    height_m: float = 15.0
    tx_power_dbm: float = 40.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str | None = None) -> CellSettings:
        """The cell of the ``[cells]`` settings table (of the settings file ``source``), each
        key defaulting to the class's; unknown keys or bad values are an error."""
        reject_unknown(values, (f.name for f in dataclasses.fields(cls)), "cells", source)
        try:
            cell = cls(**{k: float(v) for k, v in values.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError.of(
                "bad cells settings: {reason}", file=source, column="cells", reason=str(exc)
            ) from None
        return cell.check(source or "defaults")

    def check(self, source: str | None = None) -> CellSettings:
        """This cell, refused when its height or power is out of range; the error names the
        settings file ``source`` and key when it came from one, else the command's option."""
        height, power = (
            ("cells.height_m", "cells.tx_power_dbm") if source else ("--height", "--power")
        )
        if not 3.0 <= self.height_m <= 60.0:
            raise ConfigError.of(
                "a temporary cell's height must be 3 to 60 m, not {value}",
                file=source,
                column=height,
                value=self.height_m,
            )
        if not 20.0 <= self.tx_power_dbm <= 49.0:
            raise ConfigError.of(
                "a temporary cell's power must be 20 to 49 dBm, not {value}",
                file=source,
                column=power,
                value=self.tx_power_dbm,
            )
        return self


def plan_cells(
    stations: Sequence[Located],
    backups: Sequence[StationBackup],
    towers: Sequence[Tower],
    radio: RadioSettings | None = None,
    cell: CellSettings | None = None,
    candidates: Sequence[CandidateSite] = (),
    *,
    operators: Sequence[str] | None = None,
    seconds: float = 10.0,
) -> tuple[OperatorCells, ...]:
    """The fewest temporary cell sites per operator covering every station without backup.

    ``backups`` are the stations' backup (aligned with ``stations``); ``operators`` default to
    every operator with an LTE tower; ``seconds`` is the exact solver's budget per operator.
    """
    radio = radio or RadioSettings()
    cell = (cell or CellSettings()).check()
    lte = [t for t in towers if t.radio == RadioType.LTE]
    names = sorted(operators if operators is not None else {t.operator for t in lte})
    needing = [s for s, b in zip(stations, backups, strict=True) if b.status == "none"]
    return tuple(
        _operator_cells(
            name,
            needing,
            [CandidateSite(s.code, "station", s.lat, s.lon) for s in needing]
            + [CandidateSite(t.code, "tower", t.lat, t.lon) for t in lte if t.operator == name]
            + list(candidates),
            radio,
            cell,
            seconds,
        )
        for name in names
    )


def _operator_cells(
    operator: str,
    needing: Sequence[Located],
    sites: Sequence[CandidateSite],
    radio: RadioSettings,
    cell: CellSettings,
    seconds: float,
) -> OperatorCells:
    if not needing:
        return OperatorCells(operator, (), "exact", 0, ())
    cover = coverage_matrix(needing, sites, radio, cell)
    reached = np.asarray(cover.sum(axis=0)).ravel() > 0
    uncovered = tuple(s.code for s, ok in zip(needing, reached, strict=True) if not ok)
    critical = np.array([s.critical for s in needing], dtype=bool)
    useful = np.flatnonzero(np.asarray(cover.sum(axis=1)).ravel() > 0)
    matrix = sparse.csr_array(cover[useful][:, reached])
    if matrix.shape[1] == 0:
        return OperatorCells(operator, (), "exact", 0, uncovered)
    chosen, method, bound = _set_cover(matrix, critical[reached], seconds)
    target = [s for s, ok in zip(needing, reached, strict=True) if ok]
    taken = np.zeros(len(target), dtype=bool)
    result = []
    for j in _order(matrix, chosen, critical[reached]):
        covered = matrix[[j], :].indices
        mine = [int(i) for i in covered if not taken[i]]
        taken[mine] = True
        mine.sort(key=lambda i: (not target[i].critical, target[i].code))
        site = sites[int(useful[j])]
        result.append(
            CellSite(
                site.code,
                site.kind,
                site.lat,
                site.lon,
                tuple(target[i].code for i in mine),
                sum(1 for i in mine if target[i].critical),
            )
        )
    return OperatorCells(operator, tuple(result), method, bound, uncovered)


def coverage_matrix(
    stations: Sequence[Located],
    sites: Sequence[CandidateSite],
    radio: RadioSettings,
    cell: CellSettings,
) -> sparse.csr_array:
    """Sites x stations, 1 where a temporary cell at the site gives the station a usable RSRP."""
    s_lat = np.array([s.lat for s in stations], dtype=np.float64)
    s_lon = np.array([s.lon for s in stations], dtype=np.float64)
    c_lat = np.array([c.lat for c in sites], dtype=np.float64)
    c_lon = np.array([c.lon for c in sites], dtype=np.float64)
    origin = (float(s_lat.mean()), float(s_lon.mean()))
    eirp = dataclasses.replace(radio, tx_power_dbm=cell.tx_power_dbm).eirp_per_re_dbm
    reach = _cell_reach_m(radio, cell, eirp)
    site_xy, station_xy = _plane(c_lat, c_lon, origin), _plane(s_lat, s_lon, origin)
    near = cKDTree(site_xy).query_ball_tree(cKDTree(station_xy), reach)
    site = np.repeat(np.arange(len(sites)), [len(x) for x in near]).astype(np.int64)
    station = np.array([i for x in near for i in x], dtype=np.int64)
    distance = np.hypot(*(site_xy[site] - station_xy[station]).T)
    loss = uma_nlos_db(distance, cell.height_m, radio.device_height_m, radio.frequency_mhz / 1e3)
    usable = eirp - loss - radio.indoor_loss_db >= radio.usable_dbm
    return sparse.csr_array(
        (np.ones(int(usable.sum()), dtype=np.int8), (site[usable], station[usable])),
        shape=(len(sites), len(stations)),
    )


def _cell_reach_m(radio: RadioSettings, cell: CellSettings, eirp: float) -> float:
    """The distance beyond which the cell's RSRP is below usable (bisection; loss grows)."""
    allowed = eirp - radio.indoor_loss_db - radio.usable_dbm
    fc = radio.frequency_mhz / 1000.0

    def loss(d: float) -> float:
        return float(uma_nlos_db(d, cell.height_m, radio.device_height_m, fc))

    near, far = 0.0, radio.max_range_m
    if loss(far) <= allowed:
        return far
    for _ in range(40):
        mid = (near + far) / 2
        near, far = (mid, far) if loss(mid) <= allowed else (near, mid)
    return far


def _set_cover(
    matrix: sparse.csr_array, critical: NDArray[np.bool_], seconds: float
) -> tuple[NDArray[np.int64], Method, int]:
    """The chosen rows of a sites x stations 0/1 matrix covering every column, how they were
    found, and a lower bound on the number of rows any cover needs."""
    sites, stations = matrix.shape
    csc = sparse.csc_array(matrix)
    h = quiet_highs()
    h.setOptionValue("time_limit", max(0.1, float(seconds)))
    h.addVars(sites, np.zeros(sites), np.ones(sites))
    h.changeColsCost(sites, np.arange(sites, dtype=np.int32), np.ones(sites))
    rows = sparse.csr_array(csc.T)  # a row per station: the sites covering it
    h.addRows(
        stations,
        np.ones(stations),
        np.full(stations, np.inf),
        int(rows.nnz),
        rows.indptr[:-1].astype(np.int32),
        rows.indices.astype(np.int32),
        np.ones(rows.nnz),
    )
    h.run()  # the LP relaxation: its value bounds any cover from below
    lp = float(h.getInfo().objective_function_value)
    bound = math.ceil(lp - 1e-6) if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else 1
    started = time.perf_counter()
    h.changeColsIntegrality(
        sites, np.arange(sites, dtype=np.int32), np.full(sites, highspy.HighsVarType.kInteger)
    )
    h.setOptionValue("time_limit", max(0.1, float(seconds) - (time.perf_counter() - started)))
    h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        values = np.asarray(h.getSolution().col_value)
        chosen = np.flatnonzero(values > 0.5).astype(np.int64)
        return chosen, "exact", int(chosen.size)
    return _greedy(matrix, critical), "greedy", bound


def _greedy(matrix: sparse.csr_array, critical: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Greedy cover: each step the row covering the most uncovered critical columns, then the
    most uncovered columns (ties: the first row)."""
    left = np.ones(matrix.shape[1], dtype=bool)
    chosen: list[int] = []
    while left.any():
        gain_critical = matrix @ (left & critical).astype(np.int64)
        gain = matrix @ left.astype(np.int64)
        j = int(np.lexsort((np.arange(gain.size), -gain, -gain_critical))[0])
        chosen.append(j)
        left[matrix[[j], :].indices] = False
    return np.asarray(chosen, dtype=np.int64)


def _order(
    matrix: sparse.csr_array, chosen: NDArray[np.int64], critical: NDArray[np.bool_]
) -> list[int]:
    """The chosen sites in the order to set them up: each next one covers the most critical
    stations not yet covered, then the most stations."""
    sub = sparse.csr_array(matrix[chosen])
    order = _greedy(sub, critical)
    rest = [int(i) for i in range(chosen.size) if i not in set(order.tolist())]
    return [int(chosen[i]) for i in [*order.tolist(), *rest]]


CSV_COLUMNS = ("operator", "site", "kind", "lat", "lon", "stations", "critical", "covers")


CSV_HEADERS = {
    "operator": "operator",
    "site": "site",
    "kind": "kind",
    "lat": "latitude",
    "lon": "longitude",
    "stations": "stations",
    "critical": "critical",
    "covers": "stations covered",
}
"""The English msgid of each column's header in a translated file."""

SITE_KINDS = {"station": "station site", "tower": "existing tower", "candidate": "candidate"}
"""The English msgid of each kind of site."""


def write_cells(plans: Sequence[OperatorCells], path: Path, lang: str = "en") -> Path:
    """The chosen sites to ``path``: an XLSX workbook (``.xlsx``, one sheet per operator,
    headers and kinds in ``lang``, right to left in Persian) or else a CSV file."""
    if path.suffix.lower() != ".xlsx":
        return write_cells_csv(plans, path)
    from pollnet.i18n import gettext
    from pollnet.plan._xlsx import Style, XlsxBook

    book = XlsxBook(path)
    header = book.style(Style(bold=True))
    for plan in plans or [OperatorCells("-", (), "exact", 0, ())]:
        title = "".join("-" if c in "[]:*?/\\" else c for c in plan.operator)[:31] or "-"
        sheet = book.add_sheet(
            title,
            (14, 14, 16, 11, 11, 9, 9, 60),
            right_to_left=lang == "fa",
            freeze_first_row=True,
            autofilter=True,
        )
        sheet.row([gettext(CSV_HEADERS[c], lang) for c in CSV_COLUMNS], [header] * 8)
        for site in plan.sites:
            sheet.row(
                [
                    plan.operator,
                    site.code,
                    gettext(SITE_KINDS[site.kind], lang),
                    round(site.lat, 6),
                    round(site.lon, 6),
                    len(site.stations),
                    site.critical,
                    " ".join(site.stations),
                ],
                [0] * 8,
            )
    return book.close()


def write_cells_csv(plans: Sequence[OperatorCells], path: Path) -> Path:
    """One row per chosen site: its operator, position, and the stations it covers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = CsvWriter(fh)
        writer.writerow(CSV_COLUMNS)
        for plan in plans:
            for site in plan.sites:
                writer.writerow(
                    [
                        plan.operator,
                        site.code,
                        site.kind,
                        round(site.lat, 6),
                        round(site.lon, 6),
                        len(site.stations),
                        site.critical,
                        " ".join(site.stations),
                    ]
                )
    partial.replace(path)
    return path

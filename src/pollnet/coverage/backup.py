"""LTE backup of every station: which operators' towers reach it, and how strongly.

A station's devices fall back to LTE when its fiber fails, so each station needs at least one
operator whose signal inside the school is strong enough, and better two (a SIM of each, or a
dual-SIM router). For every station this estimates the reference signal received power (RSRP)
from every LTE tower within range with the 3GPP urban-macro path loss
(:mod:`pollnet.coverage.pathloss`), the tower's power per resource element, and a wall loss for
being indoors; it keeps each operator's strongest tower and classes the station:

- ``good``: the strongest operator at or above ``good_dbm`` (-100 dBm by default);
- ``usable``: at or above ``usable_dbm`` (-110 dBm), enough for the check-in traffic;
- ``none``: no LTE tower reaches it usably; the station needs a site survey, another operator
  or a temporary cell on election day.

Only towers whose signal could come within 20 dB of ``usable_dbm`` are looked at (for the
tallest tower that is about 1.7 km with the defaults), so a station without backup still shows
its near misses, and a city of 10,000 stations takes a fraction of a second.

This is a planning estimate from tower positions, not a measurement: non-line-of-sight
everywhere, no terrain, no sectors or tilt, no load. The rollout's device test on site is what
confirms it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from pollnet._cells import CsvWriter
from pollnet.coverage.pathloss import uma_nlos_db
from pollnet.errors import ConfigError
from pollnet.model import RadioType, Tower
from pollnet.settings import reject_unknown

Status = Literal["good", "usable", "none"]
STATUSES: tuple[Status, ...] = ("good", "usable", "none")

_EARTH_RADIUS_M = 6_371_008.8
_REPORT_MARGIN_DB = 20.0  # towers this far below the usable class are still reported


class Located(Protocol):
    """What a station needs to be placed: the registry's and the plan's stations both are."""

    @property
    def code(self) -> str: ...
    @property
    def district(self) -> int: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def critical(self) -> bool: ...


@dataclass(frozen=True)
class RadioSettings:
    """The radio assumptions of the estimate (the ``[coverage]`` settings table).

    ``frequency_mhz``: the LTE carrier (band 3, 1800 MHz, the band all three Iranian operators
    run in Tehran); ``tx_power_dbm``: a sector's total transmit power (46 dBm = 20 W) spread
    over ``bandwidth_mhz`` (12 subcarriers per 180 kHz resource block, 90 % of the band used);
    ``antenna_gain_dbi`` and ``feeder_loss_db`` of the tower; ``device_height_m`` (a ground
    floor classroom); ``indoor_loss_db`` (outside to inside through a school's walls and
    windows); ``max_range_m`` (towers farther away are not considered: the model's limit);
    ``good_dbm`` and ``usable_dbm``: the RSRP classes.
    """

    frequency_mhz: float = 1800.0
    bandwidth_mhz: float = 20.0
    tx_power_dbm: float = 46.0
    antenna_gain_dbi: float = 17.0
    feeder_loss_db: float = 2.0
    device_height_m: float = 1.5
    indoor_loss_db: float = 15.0
    max_range_m: float = 5000.0
    good_dbm: float = -100.0
    usable_dbm: float = -110.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str | None = None) -> RadioSettings:
        """Settings from the ``[coverage]`` table (of the settings file ``source``); unknown keys
        or bad values are an error."""
        reject_unknown(values, (f.name for f in fields(cls)), "coverage", source)
        try:
            radio = cls(**{k: float(v) for k, v in values.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError.of(
                "bad coverage settings: {reason}", column="coverage", reason=str(exc)
            ) from None
        radio.check()
        return radio

    def check(self) -> None:
        """Refuse values the model cannot work with."""
        rules = (
            ("frequency_mhz", 400.0 <= self.frequency_mhz <= 6000.0),
            ("bandwidth_mhz", 1.4 <= self.bandwidth_mhz <= 100.0),
            ("device_height_m", 1.5 <= self.device_height_m <= 22.5),
            ("max_range_m", 0.0 < self.max_range_m <= 20_000.0),
            ("usable_dbm", self.usable_dbm <= self.good_dbm),
        )
        for name, ok in rules:
            if not ok:
                raise ConfigError.of(
                    "coverage setting {name} is out of range: {value}",
                    column=f"coverage.{name}",
                    name=name,
                    value=getattr(self, name),
                )

    @property
    def eirp_per_re_dbm(self) -> float:
        """The tower's radiated power per resource element (what RSRP measures), in dBm."""
        resource_blocks = round(self.bandwidth_mhz * 0.9 / 0.18)  # 100 at 20 MHz
        subcarriers = 12 * resource_blocks
        return (
            self.tx_power_dbm
            - 10.0 * float(np.log10(subcarriers))
            + self.antenna_gain_dbi
            - self.feeder_loss_db
        )


@dataclass(frozen=True)
class Serving:
    """An operator's strongest tower at a station."""

    operator: str
    tower: str
    distance_m: float
    rsrp_dbm: float


@dataclass(frozen=True)
class StationBackup:
    """A station's LTE backup: its class and each operator's strongest tower, strongest first."""

    station: str
    district: int
    critical: bool
    status: Status
    operators: tuple[Serving, ...]

    @property
    def best(self) -> Serving | None:
        return self.operators[0] if self.operators else None

    def usable_operators(self, radio: RadioSettings) -> int:
        """How many operators reach the station at least usably."""
        return sum(1 for s in self.operators if s.rsrp_dbm >= radio.usable_dbm)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DistrictBackup:
    """Counts of a district's stations by class; ``single`` have one usable operator only."""

    district: int
    stations: int
    good: int
    usable: int
    none: int
    single: int
    critical_none: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lte_backup(
    stations: Sequence[Located], towers: Sequence[Tower], radio: RadioSettings | None = None
) -> tuple[StationBackup, ...]:
    """The LTE backup of every station (in the order given) from the LTE ``towers``."""
    radio = radio or RadioSettings()
    lte = [t for t in towers if t.radio == RadioType.LTE]
    if not stations:
        return ()
    s_lat = np.array([s.lat for s in stations], dtype=np.float64)
    s_lon = np.array([s.lon for s in stations], dtype=np.float64)
    per_station: list[list[Serving]] = [[] for _ in stations]
    if lte:
        t_lat = np.array([t.lat for t in lte], dtype=np.float64)
        t_lon = np.array([t.lon for t in lte], dtype=np.float64)
        t_height = np.array([t.height_m for t in lte], dtype=np.float64)
        origin = (float(np.mean(s_lat)), float(np.mean(s_lon)))
        reach = _reach_m(radio, float(t_height.max()))
        near = cKDTree(_plane(s_lat, s_lon, origin)).sparse_distance_matrix(
            cKDTree(_plane(t_lat, t_lon, origin)), reach, output_type="coo_matrix"
        )
        station, tower, distance = near.row, near.col, near.data
        loss = uma_nlos_db(
            distance, t_height[tower], radio.device_height_m, radio.frequency_mhz / 1000.0
        )
        rsrp = radio.eirp_per_re_dbm - loss - radio.indoor_loss_db
        operator_names = sorted({t.operator for t in lte})
        operator = np.array([operator_names.index(t.operator) for t in lte])[tower]
        # Each (station, operator): the strongest tower (ties: the nearer, then the first).
        order = np.lexsort((tower, distance, -rsrp, operator, station))
        first = np.ones(order.size, dtype=bool)
        key = station[order] * len(operator_names) + operator[order]
        first[1:] = key[1:] != key[:-1]
        for i in order[first].tolist():
            t = lte[int(tower[i])]
            per_station[int(station[i])].append(
                Serving(t.operator, t.code, round(float(distance[i]), 1), round(float(rsrp[i]), 1))
            )
    result = []
    for s, serving in zip(stations, per_station, strict=True):
        serving.sort(key=lambda x: (-x.rsrp_dbm, x.distance_m, x.operator))
        result.append(
            StationBackup(
                station=s.code,
                district=int(s.district),
                critical=bool(s.critical),
                status=_status(serving[0].rsrp_dbm if serving else None, radio),
                operators=tuple(serving),
            )
        )
    return tuple(result)


def by_district(
    backups: Sequence[StationBackup], radio: RadioSettings | None = None
) -> tuple[DistrictBackup, ...]:
    """Counts per district (sorted by district number)."""
    radio = radio or RadioSettings()
    groups: dict[int, list[StationBackup]] = {}
    for b in backups:
        groups.setdefault(b.district, []).append(b)
    return tuple(
        DistrictBackup(
            district=district,
            stations=len(group),
            good=sum(1 for b in group if b.status == "good"),
            usable=sum(1 for b in group if b.status == "usable"),
            none=sum(1 for b in group if b.status == "none"),
            single=sum(1 for b in group if b.usable_operators(radio) == 1),
            critical_none=sum(1 for b in group if b.critical and b.status == "none"),
        )
        for district, group in sorted(groups.items())
    )


def _reach_m(radio: RadioSettings, tallest_m: float) -> float:
    """How far a tower of ``tallest_m`` can be and still come within ``_REPORT_MARGIN_DB`` of
    the usable class (bisection on the monotone path loss), at most ``max_range_m``."""
    floor = radio.usable_dbm - _REPORT_MARGIN_DB
    allowed = radio.eirp_per_re_dbm - radio.indoor_loss_db - floor  # the largest path loss
    fc = radio.frequency_mhz / 1000.0

    def loss(d: float) -> float:
        return float(uma_nlos_db(d, tallest_m, radio.device_height_m, fc))

    if loss(radio.max_range_m) <= allowed:
        return radio.max_range_m
    near, far = 0.0, radio.max_range_m
    for _ in range(40):
        mid = (near + far) / 2
        near, far = (mid, far) if loss(mid) <= allowed else (near, mid)
    return far


def _status(rsrp_dbm: float | None, radio: RadioSettings) -> Status:
    if rsrp_dbm is None or rsrp_dbm < radio.usable_dbm:
        return "none"
    return "good" if rsrp_dbm >= radio.good_dbm else "usable"


def _plane(lat: NDArray[np.float64], lon: NDArray[np.float64], origin: tuple[float, float]) -> Any:
    """Metres east and north of ``origin`` (an equirectangular plane: within a city the error
    is far below a metre per kilometre)."""
    lat0, lon0 = np.radians(origin[0]), np.radians(origin[1])
    x = _EARTH_RADIUS_M * (np.radians(lon) - lon0) * np.cos(lat0)
    y = _EARTH_RADIUS_M * (np.radians(lat) - lat0)
    return np.column_stack([x, y])


CSV_COLUMNS = (
    "station",
    "district",
    "critical",
    "status",
    "operators_usable",
    "operator",
    "tower",
    "distance_m",
    "rsrp_dbm",
    "second_operator",
    "second_tower",
    "second_rsrp_dbm",
)


CSV_HEADERS: Mapping[str, str] = {
    "station": "station",
    "district": "district",
    "critical": "critical",
    "status": "LTE backup",
    "operators_usable": "operators usable",
    "operator": "strongest operator",
    "tower": "its tower",
    "distance_m": "distance (m)",
    "rsrp_dbm": "signal (dBm)",
    "second_operator": "second operator",
    "second_tower": "second operator's tower",
    "second_rsrp_dbm": "second operator's signal (dBm)",
}
"""The English msgid of each column's header in a translated file."""

STATUS_LABELS: Mapping[str, str] = {"good": "good", "usable": "usable", "none": "no LTE backup"}
"""The English msgid of each backup class, for a translated file."""


def write_backup_csv(
    backups: tuple[StationBackup, ...], radio: RadioSettings, path: Path, lang: str = "en"
) -> Path:
    """Every station's backup, one row each; written whole, then renamed.

    In English the headers are the machine names of ``CSV_COLUMNS`` and the classes ``good``,
    ``usable``, ``none``; in another ``lang`` both are translated (numbers stay numbers).
    """
    from pollnet.i18n import gettext

    english = lang == "en"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = CsvWriter(fh)
        writer.writerow(
            CSV_COLUMNS if english else [gettext(CSV_HEADERS[c], lang) for c in CSV_COLUMNS]
        )
        for b in backups:
            first = b.operators[0] if b.operators else None
            second = b.operators[1] if len(b.operators) > 1 else None
            writer.writerow(
                [
                    b.station,
                    b.district,
                    int(b.critical) if english else gettext("yes" if b.critical else "no", lang),
                    b.status if english else gettext(STATUS_LABELS[b.status], lang),
                    b.usable_operators(radio),
                    first.operator if first else "",
                    first.tower if first else "",
                    first.distance_m if first else "",
                    first.rsrp_dbm if first else "",
                    second.operator if second else "",
                    second.tower if second else "",
                    second.rsrp_dbm if second else "",
                ]
            )
    partial.replace(path)
    return path

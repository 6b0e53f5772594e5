"""The rollout configuration: work-order templates, productivity rates, crews, calendar.

The defaults live in ``templates.toml`` next to this module (documented there); the
``[rollout]`` table of the settings file overrides any of its keys, table by table.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from pollnet.errors import ConfigError
from pollnet.i18n import Digits
from pollnet.model import Agency
from pollnet.plan.costs import PERMIT_METHODS
from pollnet.rollout.calendar import WorkCalendar

KINDS: tuple[str, ...] = (
    "permit",
    "trench",
    "restoration",
    "cable_pull",
    "splice",
    "access",
    "ont",
    "optical_test",
    "lte_sim",
    "device_install",
    "e2e_test",
)
"""Every kind of work order, in the order the work is done."""

SOURCE = "rollout"


@dataclass(frozen=True)
class Template:
    """How one kind of work order is made: who does it, in what unit, how fast.

    ``rate`` is units per crew-day; ``lead_days`` (working days) replaces it for work that
    waits on an office rather than a crew.
    """

    kind: str
    agency: str
    unit: str
    rate: float | None = None
    lead_days: float | None = None
    enabled: bool = True

    @property
    def crew(self) -> bool:
        """Whether the work occupies a crew (otherwise it is a lead time)."""
        return self.lead_days is None


@dataclass(frozen=True)
class OpticalCheck:
    """What a measured received power (dBm) must reach for an optical test to pass."""

    olt_tx_dbm: float = 2.5
    ont_sensitivity_dbm: float = -27.0
    tolerance_db: float = 3.0

    def min_rx_dbm(self, planned_loss_db: float) -> float:
        """The lowest passing received power for a link of ``planned_loss_db`` (dB)."""
        planned = self.olt_tx_dbm - planned_loss_db
        return round(max(self.ont_sensitivity_dbm, planned - self.tolerance_db), 2)


@dataclass(frozen=True)
class Crews:
    """How many crews each agency has in each municipal district.

    ``by_area`` sets them for the districts of one area (the agency's scope: a municipality's
    code for the municipality, an education district's number for education): each
    municipality and education district is its own agency with its own crews. A district's own
    setting (``by_district``) comes first, then the area's, then the default.
    """

    default: Mapping[str, int]
    by_district: Mapping[tuple[str, int], int] = field(default_factory=dict)
    by_area: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def count(self, agency: str, district: int, scope: str = "") -> int:
        """Crews of ``agency`` in ``district`` (of the area ``scope``, when it has one)."""
        found = self.by_district.get((agency, district))
        if found is None and scope:
            found = self.by_area.get((agency, scope))
        return found if found is not None else self.default.get(agency, 0)

    def changed(self, changes: tuple[CrewChange, ...], districts: set[int]) -> Crews:
        """A copy with ``changes`` applied (a change without a district applies to all).

        A change naming a district without work orders (``districts``) is refused: it would
        change nothing, and is most likely a typing mistake.
        """
        table = dict(self.by_district)
        default = dict(self.default)
        areas = dict(self.by_area)
        for change in changes:
            if change.district is not None and change.district not in districts:
                raise ConfigError.of(
                    "no work orders in district {district} (districts with work: {known})",
                    column="--crews",
                    district=change.district,
                    known=Digits.ranges(districts),
                )
            if change.district is None:  # every district, of every area
                default[change.agency] = max(0, default.get(change.agency, 0) + change.delta)
                for key in [k for k in table if k[0] == change.agency]:
                    table[key] = max(0, table[key] + change.delta)
                for area_key in [k for k in areas if k[0] == change.agency]:
                    areas[area_key] = max(0, areas[area_key] + change.delta)
                continue
            before = table.get((change.agency, change.district), default.get(change.agency, 0))
            table[(change.agency, change.district)] = max(0, before + change.delta)
        return replace(self, default=default, by_district=table, by_area=areas)


@dataclass(frozen=True)
class CrewChange:
    """A what-if: ``delta`` more (or fewer) crews of ``agency`` in ``district`` (None: all)."""

    agency: str
    district: int | None
    delta: int

    @classmethod
    def parse(cls, text: str) -> CrewChange:
        """``telecom:5=+3`` (agency:district=+n), ``education=+1`` (every district), ``x:2=-1``."""
        head, sep, amount = text.partition("=")
        agency, _, district = head.strip().partition(":")
        try:
            delta = int(amount.strip())
            number = int(district) if district.strip() not in ("", "*") else None
        except ValueError:
            number, delta, sep = None, 0, ""
        if not sep or agency not in {a.value for a in Agency}:
            raise ConfigError.of(
                "not a crew change: {value} (use telecom:5=+3)", column="--crews", value=text
            )
        return cls(agency, number, delta)


@dataclass(frozen=True)
class RolloutConfig:
    """Everything the rollout reads from ``templates.toml`` and the ``[rollout]`` settings."""

    templates: Mapping[str, Template]
    trench_rates: Mapping[str, float]
    restore_methods: frozenset[str]
    optical: OpticalCheck
    crews: Crews
    calendar: WorkCalendar
    granularity_days: float = 0.5
    min_days: float = 0.5
    safety_buffer_days: float = 10.0
    permit_methods: frozenset[str] = PERMIT_METHODS
    """Methods whose street works need a permit work order: the cost model's, never set here."""

    def duration(self, quantity: float, rate: float) -> float:
        """Working days for one crew to do ``quantity`` at ``rate`` units per crew-day."""
        step = self.granularity_days
        days = math.ceil(quantity / rate / step - 1e-9) * step
        return max(days, self.min_days)


def default_table() -> dict[str, Any]:
    """The packaged ``templates.toml`` as a table."""
    text = resources.files("pollnet.rollout").joinpath("templates.toml").read_text("utf-8")
    return tomllib.loads(text)


def load_config(overrides: Mapping[str, Any] | None = None) -> RolloutConfig:
    """The rollout configuration: the packaged defaults with ``overrides`` merged over them."""
    table = _merge(default_table(), overrides or {})
    try:
        return _build(table)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError.of(
            "bad rollout settings: {reason}", file=SOURCE, reason=repr(exc)
        ) from None


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(table: Mapping[str, Any]) -> RolloutConfig:
    agencies = {a.value for a in Agency}
    templates: dict[str, Template] = {}
    for kind, spec in table["templates"].items():
        if kind not in KINDS:
            raise ConfigError.of("unknown work-order kind: {value}", file=SOURCE, value=kind)
        if spec["agency"] not in agencies:
            raise ConfigError.of("unknown agency: {value}", file=SOURCE, value=spec["agency"])
        rate = float(spec["rate"]) if "rate" in spec else None
        lead = float(spec["lead_days"]) if "lead_days" in spec else None
        if kind != "trench" and (rate is None) == (lead is None):
            raise ConfigError.of(
                "template {kind} needs exactly one of rate and lead_days", file=SOURCE, kind=kind
            )
        if rate is not None and rate <= 0:
            raise ConfigError.of("template {kind}: rate must be positive", file=SOURCE, kind=kind)
        templates[kind] = Template(
            kind,
            str(spec["agency"]),
            str(spec["unit"]),
            rate,
            lead,
            bool(spec.get("enabled", True)),
        )
    missing = [k for k in KINDS if k not in templates]
    if missing:
        raise ConfigError.of("missing work-order templates: {names}", names=", ".join(missing))
    crews_table = table["crews"]
    by_district: dict[tuple[str, int], int] = {}
    for district, counts in crews_table.get("district", {}).items():
        for agency, count in counts.items():
            by_district[(str(agency), int(district))] = int(count)
    by_area: dict[tuple[str, str], int] = {}
    for area, counts in crews_table.get("area", {}).items():
        for agency, count in counts.items():
            by_area[(str(agency), str(area))] = int(count)
    if "permit_methods" in table["streets"]:
        raise ConfigError.of(
            "permit_methods is not a rollout setting: the cost model decides which methods "
            "need a permit ({names})",
            file=SOURCE,
            column="streets.permit_methods",
            names=", ".join(sorted(PERMIT_METHODS)),
        )
    schedule = table["schedule"]
    optical = table["optical"]
    return RolloutConfig(
        templates=templates,
        trench_rates={str(k): float(v) for k, v in table["rates"]["trench_m_per_day"].items()},
        restore_methods=frozenset(table["streets"]["restore_methods"]),
        optical=OpticalCheck(
            float(optical["olt_tx_dbm"]),
            float(optical["ont_sensitivity_dbm"]),
            float(optical["tolerance_db"]),
        ),
        crews=Crews(
            {str(k): int(v) for k, v in crews_table["default"].items()}, by_district, by_area
        ),
        calendar=WorkCalendar.from_config(table["calendar"]),
        granularity_days=float(schedule["granularity_days"]),
        min_days=float(schedule["min_days"]),
        safety_buffer_days=float(schedule["safety_buffer_days"]),
    )

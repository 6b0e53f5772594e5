"""The plan as data: frozen values that the planner returns, the store saves and exports read.

Coordinates are WGS84 degrees, ``(lon, lat)`` pairs in that order (GeoJSON order); lengths are
metres; money is rials; losses are dB. Identifiers (``TrenchSegment.id``, ``CableRun.id``,
``SplicePoint.id``) are small integers unique within one plan, numbered from 0, and other values
refer to them. Stations and exchanges are referred to by their registry ``code``.

A station's route is the sequence of trench segments from its exchange to the station: it starts
with the exchange's building drop, runs along street trenches and ends with the station's own
building drop (segments whose ``method`` is ``"drop"`` and ``edge`` is ``-1``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Method = Literal["open_trench", "micro_trench", "existing_duct", "aerial", "existing_fiber", "drop"]
"""How a trench segment is built; ``existing_fiber`` and ``existing_duct`` need no digging."""

METHODS: tuple[Method, ...] = (
    "open_trench",
    "micro_trench",
    "existing_duct",
    "aerial",
    "existing_fiber",
    "drop",
)

StationStatus = Literal["connected", "flagged"]

SpliceKind = Literal["closure", "splitter"]

CORE_SIZES: tuple[int, ...] = (12, 24, 48, 96, 144)
"""Standard cable sizes (fiber cores), smallest first."""

# Machine codes of the flags a station can carry. The message of a flag is an English msgid.
FLAG_FAR_FROM_STREET = "far_from_street"
FLAG_UNREACHABLE = "unreachable"
FLAG_DUPLICATE = "duplicate_coordinates"
FLAG_OUTSIDE_AREA = "outside_area"
FLAG_NO_CAPACITY = "no_capacity"
FLAG_BUDGET = "budget_exceeded"
FLAG_NO_SECOND_ROUTE = "no_second_route"

FLAG_CODES: tuple[str, ...] = (
    FLAG_FAR_FROM_STREET,
    FLAG_UNREACHABLE,
    FLAG_DUPLICATE,
    FLAG_OUTSIDE_AREA,
    FLAG_NO_CAPACITY,
    FLAG_BUDGET,
    FLAG_NO_SECOND_ROUTE,
)
"""Every flag code. ``duplicate_coordinates`` and ``no_second_route`` are warnings: a station
carrying only those is still connected; the others mean the station is not served."""

WARNING_CODES: frozenset[str] = frozenset({FLAG_DUPLICATE, FLAG_NO_SECOND_ROUTE})

FLAG_LABELS: dict[str, str] = {
    FLAG_FAR_FROM_STREET: "too far from a street",
    FLAG_UNREACHABLE: "no exchange reaches its streets",
    FLAG_DUPLICATE: "duplicate coordinates",
    FLAG_OUTSIDE_AREA: "outside the network's area",
    FLAG_NO_CAPACITY: "no free PON port",
    FLAG_BUDGET: "over the optical budget",
    FLAG_NO_SECOND_ROUTE: "no second route",
}
"""A short English msgid naming each flag code, for tables and legends."""


@dataclass(frozen=True)
class Flag:
    """Why a station needs review: a machine ``code`` and an English msgid with ``params``."""

    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        """The flag as one line in ``lang`` (default: the active language)."""
        from pollnet.i18n import tr

        return tr(self.message, lang, **self.params)


@dataclass(frozen=True)
class TrenchSegment:
    """One piece of civil work along one street edge (or a building drop when ``edge == -1``).

    ``coords`` is the (lon, lat) polyline; ``cost_rial`` is trenching, restoration and this
    piece's share of the street permit (not the cable laid in it); ``stations_behind`` is how
    many stations' routes pass through it. ``street_segment`` is the street segment (the street
    edge between two junctions, as imported) the piece lies on, -1 for a drop: snapping splits
    a segment where stations attach, and a segment dug in several pieces needs one permit, which
    its dug pieces share equally.
    """

    id: int
    edge: int
    coords: tuple[tuple[float, float], ...]
    length_m: float
    street_class: str
    street_name: str
    street_name_en: str
    district: int
    method: Method
    cost_rial: float
    stations_behind: int
    street_segment: int = -1


@dataclass(frozen=True)
class CableRun:
    """A cable of one size between two splice points (or the exchange and a splice point).

    ``trench_ids`` lists the trench segments it is laid in, in order from the exchange;
    ``cores`` is one of :data:`CORE_SIZES`; ``fibers_used`` is how many of the cores carry a
    planned link (the rest are spare); ``redundant`` runs carry critical stations' second
    routes; ``existing`` runs use spare cores of fiber already in the ground (no new cable).
    """

    id: int
    exchange: str
    trench_ids: tuple[int, ...]
    length_m: float
    cores: int
    stations_downstream: int
    coords: tuple[tuple[float, float], ...]
    fibers_used: int = 0
    redundant: bool = False
    existing: bool = False


@dataclass(frozen=True)
class SplicePoint:
    """A splice closure where cable runs meet, or a passive optical splitter (``split`` = 1:N)."""

    id: int
    lon: float
    lat: float
    kind: SpliceKind
    cable_run_ids: tuple[int, ...]
    exchange: str = ""
    split: int = 0


@dataclass(frozen=True)
class OpticalBudget:
    """The loss from the exchange's OLT to the station's ONT against the GPON class budget.

    ``ok`` means ``total_loss_db + margin_db <= budget_db``.
    """

    fiber_km: float
    splices: int
    connectors: int
    splitter_loss_db: float
    total_loss_db: float
    budget_db: float
    margin_db: float
    ok: bool

    @property
    def headroom_db(self) -> float:
        """What is left of the budget after the loss and the margin (negative when failing)."""
        return self.budget_db - self.margin_db - self.total_loss_db


@dataclass(frozen=True)
class RedundantRoute:
    """A critical station's second route, sharing no trench with its first one."""

    trench_ids: tuple[int, ...]
    length_m: float
    exchange: str
    extra_cost_rial: float


@dataclass(frozen=True)
class StationPlan:
    """What the plan does for one polling station."""

    code: str
    lon: float
    lat: float
    district: int
    status: StationStatus
    exchange: str | None
    route_trench_ids: tuple[int, ...]
    route_length_m: float
    drop_length_m: float
    budget: OpticalBudget | None
    flags: tuple[Flag, ...] = ()
    redundant: RedundantRoute | None = None
    name: str = ""
    site: str = ""
    critical: bool = False
    pon_port: int | None = None
    splitter_id: int | None = None


@dataclass(frozen=True)
class ExchangePlan:
    """An exchange as the plan uses it: how many PON ports and stations it serves."""

    code: str
    name: str
    lon: float
    lat: float
    pon_ports: int
    ports_used: int
    stations: int


@dataclass(frozen=True)
class BomLine:
    """One line of the bill of materials and works; ``item`` and ``unit`` are English msgids.

    ``item`` may hold ``{name}`` placeholders filled from ``params`` (``"Fiber cable, {cores}
    cores"`` with ``{"cores": 12}``); :meth:`render` gives the line's item in a language.
    """

    item: str
    unit: str
    quantity: float
    unit_cost_rial: float
    total_rial: float
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        """The item in ``lang`` (default: the active language), placeholders filled."""
        from pollnet.i18n import tr

        return tr(self.item, lang, **self.params)


@dataclass(frozen=True)
class PlanTotals:
    """The headline figures of a plan; ``cost_rial`` includes ``redundancy_cost_rial``.

    ``trench_m`` is the street route built (every method but existing fiber, second routes
    included) plus the building drops; ``cable_m`` is new cable, drops and second routes
    included (spare cores of existing fiber are not new cable).
    """

    stations: int
    connected: int
    flagged: int
    trench_m: float
    cable_m: float
    cost_rial: float
    redundancy_cost_rial: float
    usd_rate: float

    @property
    def cost_usd(self) -> float:
        """The total cost in US dollars at the cost model's rate."""
        return self.cost_rial / self.usd_rate if self.usd_rate else 0.0


@dataclass(frozen=True)
class Plan:
    """A whole fiber network design, reproducible from ``inputs_digest`` and ``cost_model``.

    ``parameters`` holds the design settings used (split ratio, optical class, margin, ...);
    ``phase_seconds`` maps each phase of the planner to its wall-clock seconds.
    """

    id: str | None
    created_at: dt.datetime
    inputs_digest: str
    cost_model: Mapping[str, Any]
    stations: tuple[StationPlan, ...]
    trenches: tuple[TrenchSegment, ...]
    cable_runs: tuple[CableRun, ...]
    splices: tuple[SplicePoint, ...]
    bom: tuple[BomLine, ...]
    totals: PlanTotals
    phase_seconds: Mapping[str, float] = field(default_factory=dict)
    exchanges: tuple[ExchangePlan, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def for_review(self) -> tuple[StationPlan, ...]:
        """The stations *flagged for review*: every station carrying a flag.

        That is the stations not connected (status ``flagged``) and the connected ones that
        carry a warning (:data:`WARNING_CODES`), not connected first, then by code. Every output
        that says "flagged for review" counts and lists exactly these.
        """
        review = [s for s in self.stations if s.flags]
        review.sort(key=lambda s: (s.status == "connected", s.code))
        return tuple(review)

    def review_reasons(self) -> dict[str, int]:
        """For each flag code (in :data:`FLAG_CODES` order), how many stations carry it."""
        counts = dict.fromkeys(FLAG_CODES, 0)
        for s in self.stations:
            for code in {f.code for f in s.flags}:
                counts[code] = counts.get(code, 0) + 1
        return {code: n for code, n in counts.items() if n}

    def summary(self) -> dict[str, Any]:
        """The figures ``pollnet plan --json`` prints.

        ``flagged`` counts the stations not connected; ``review`` the stations flagged for
        review (:attr:`for_review`, warnings included) and ``review_reasons`` them by flag code.
        """
        t = self.totals
        return {
            "plan_id": self.id,
            "stations": t.stations,
            "connected": t.connected,
            "flagged": t.flagged,
            "review": len(self.for_review),
            "review_reasons": self.review_reasons(),
            "trench_m": round(t.trench_m, 1),
            "cable_m": round(t.cable_m, 1),
            "cost_rial": round(t.cost_rial),
            "redundancy_cost_rial": round(t.redundancy_cost_rial),
            "seconds": {k: round(v, 3) for k, v in self.phase_seconds.items()},
        }


def cores_for(fibers: int, spare: float = 0.5) -> int:
    """The smallest standard cable size holding ``fibers`` plus a ``spare`` fraction.

    Above the largest size the largest is returned; the planner then lays parallel cables.
    """
    needed = fibers * (1.0 + spare)
    for size in CORE_SIZES:
        if needed <= size:
            return size
    return CORE_SIZES[-1]

"""Stable references to a plan's parts, the one name each part has in every output.

The planner numbers trench segments and cable runs afresh on every run (``TrenchSegment.id``,
``CableRun.id``); people need names that survive a re-plan and that read the same in the work
lists, the map layers and the work orders:

* a street trench is ``TR-<street edge>``; a building drop ``TR-DROP-<station or exchange>``;
* a cable run is ``<exchange>-<hash>``, the hash taken over the exchange, the references of the
  trenches it is laid in and whether it carries second routes (``-2``, ``-3`` for parallel
  cables in the same trenches); its work orders are ``CP-<run>`` (pull) and ``SP-<run>`` (splice);
* a street group (municipal district + street) is ``<district>-<street>``, the street written in
  its own script (lower case, words joined by ``-``), so a Persian street name stays readable;
  its work orders are ``PM-<group>`` (permit) and ``RS-<group>`` (restoration).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from pollnet.i18n.digits import ZWNJ
from pollnet.plan.model import Plan, TrenchSegment

__all__ = ["PlanRefs", "street_group", "street_slug"]

_NOT_WORD = re.compile(r"[\W_]+")


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=4).hexdigest()


def street_slug(name: str) -> str:
    """``name`` as an identifier part: lower case, letters and digits of any script kept as
    written, every other run of characters one ``-`` (``"Valiasr St."`` -> ``"valiasr-st"``,
    ``"خیابان آزادی"`` -> ``"خیابان-آزادی"``)."""
    text = unicodedata.normalize("NFKC", name).replace(ZWNJ, "").lower()
    return _NOT_WORD.sub("-", text).strip("-")


def street_group(trench: TrenchSegment) -> str:
    """The street group of a street trench: ``<district, 2 digits>-<street>`` (the English name
    when there is one, else the name as mapped; ``unnamed`` without either)."""
    name = street_slug(trench.street_name_en) or street_slug(trench.street_name) or "unnamed"
    return f"{trench.district:02d}-{name}"


@dataclass(frozen=True)
class PlanRefs:
    """The stable references of one plan's trench segments and cable runs, by plan-internal id."""

    plan: Plan

    @cached_property
    def trench(self) -> dict[int, str]:
        """``TR-...`` for every trench segment."""
        owners: dict[int, str] = {}
        for station in self.plan.stations:
            route = station.route_trench_ids
            if station.status != "connected" or not route:
                continue
            owners.setdefault(route[-1], station.code)
            if station.exchange:
                owners.setdefault(route[0], station.exchange)
        refs: dict[int, str] = {}
        used: set[str] = set()
        for t in self.plan.trenches:
            if t.edge >= 0:
                key = f"TR-{t.edge}"
            else:
                key = f"TR-DROP-{owners.get(t.id, _digest(t.coords))}"
            if key in used:
                key = f"{key}-{_digest(t.coords)}"
            used.add(key)
            refs[t.id] = key
        return refs

    @cached_property
    def cable_run(self) -> dict[int, str]:
        """``<exchange>-<hash>`` for every cable run."""
        refs: dict[int, str] = {}
        seen: dict[str, int] = {}
        for run in self.plan.cable_runs:
            keys = tuple(self.trench[t] for t in run.trench_ids)
            tag = f"{run.exchange}-{_digest(run.exchange, keys, run.redundant)}"
            count = seen[tag] = seen.get(tag, 0) + 1
            refs[run.id] = tag if count == 1 else f"{tag}-{count}"
        return refs

    def trenches(self, ids: tuple[int, ...], sep: str = " ") -> str:
        """The references of the trench segments ``ids``, joined by ``sep``."""
        return sep.join(self.trench[i] for i in ids)

    def cable_runs(self, ids: tuple[int, ...], sep: str = " ") -> str:
        """The references of the cable runs ``ids``, joined by ``sep``."""
        return sep.join(self.cable_run[i] for i in ids)

"""Station readiness: planned -> in progress -> fiber ready -> device verified, by district.

A station is *in progress* once any work it waits on (its own work orders or any upstream ones:
trenches, cables, permits) has started; *fiber ready* once its optical test passed (done);
*device verified* once its end-to-end test is done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from pollnet.rollout.schedule import Forecast
from pollnet.rollout.status import OrderState
from pollnet.rollout.workorders import READY_KIND, WorkOrderSet

STAGES: tuple[str, ...] = ("planned", "in_progress", "fiber_ready", "device_verified")
_STARTED = frozenset({"in_progress", "done", "failed"})


@dataclass(frozen=True)
class DistrictReadiness:
    """How far the stations of one municipal district are, and when the last will be ready."""

    district: int
    counts: Mapping[str, int]
    stations: int
    forecast: dt.date | None
    at_risk: int

    def as_dict(self) -> dict[str, object]:
        """The row as ``pollnet readiness --json`` prints it."""
        return {
            "district": self.district,
            "stations": self.stations,
            **self.counts,
            "forecast": self.forecast.isoformat() if self.forecast else None,
            "at_risk": self.at_risk,
        }


def station_stages(orders: WorkOrderSet, states: Mapping[str, OrderState]) -> dict[str, str]:
    """The stage of every station that has work orders."""
    touched: dict[str, bool] = {}
    for order in orders:  # topological order: predecessors first
        state = states.get(order.id)
        own = state is not None and state.status in _STARTED
        touched[order.id] = own or any(touched[p] for p in order.predecessors)
    stages: dict[str, str] = {}
    for order in orders:
        if order.kind != READY_KIND or not order.station:
            continue
        code = order.station
        verified = states.get(order.id)
        tested = states.get(f"ST-{code}-OTEST")
        if verified is not None and verified.status == "done":
            stages[code] = "device_verified"
        elif tested is not None and tested.status == "done":
            stages[code] = "fiber_ready"
        elif touched[order.id]:
            stages[code] = "in_progress"
        else:
            stages[code] = "planned"
    return stages


def readiness(
    orders: WorkOrderSet, states: Mapping[str, OrderState], forecast: Forecast | None = None
) -> list[DistrictReadiness]:
    """Stations per stage for every district, with the forecast ready date and stations at risk."""
    stages = station_stages(orders, states)
    district_of = {o.station: o.district for o in orders if o.kind == READY_KIND and o.station}
    ready = forecast.schedule.district_ready() if forecast else {}
    risk: dict[int, int] = {}
    for item in forecast.at_risk if forecast else ():
        risk[item.district] = risk.get(item.district, 0) + 1
    counts: dict[int, dict[str, int]] = {}
    for code, stage in stages.items():
        row = counts.setdefault(district_of[code], dict.fromkeys(STAGES, 0))
        row[stage] += 1
    return [
        DistrictReadiness(d, row, sum(row.values()), ready.get(d), risk.get(d, 0))
        for d, row in sorted(counts.items())
    ]

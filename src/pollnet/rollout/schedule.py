"""A resource-constrained schedule of the work orders and the forecast it gives.

A list scheduler in working time: crews of each (agency, district) are a limited resource, lead
times (permits) are not; whenever a crew is free it takes the ready work order with the highest
priority. ``critical_path`` priority is the longest remaining path to the end of the DAG (in
working days), so work that holds up long chains goes first; ``earliest_start`` is the plain
first-come-first-served baseline (whatever became ready first). Events and ready queues are
heaps: O((n + e) log n) for n work orders and e dependencies.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from pollnet.errors import UserError
from pollnet.rollout.calendar import Timeline
from pollnet.rollout.status import OrderState
from pollnet.rollout.templates import CrewChange, RolloutConfig
from pollnet.rollout.workorders import READY_KIND, WorkOrderSet

Priority = Literal["critical_path", "earliest_start"]
PRIORITIES: tuple[Priority, ...] = ("critical_path", "earliest_start")


@dataclass(frozen=True)
class Link:
    """One work order in the chain that makes a station late."""

    order_id: str
    finish: dt.date
    waited_for_crew: bool


@dataclass(frozen=True)
class Schedule:
    """Start and finish of every work order, in working days from ``timeline.start`` and dates.

    ``driver[i]`` is the predecessor of work order ``i`` that finished last (-1 if none);
    ``waited[i]`` says it then still waited for a free crew.
    """

    orders: WorkOrderSet
    priority: Priority
    timeline: Timeline
    start_t: npt.NDArray[np.float64]
    finish_t: npt.NDArray[np.float64]
    start_day: npt.NDArray[np.int64]
    finish_day: npt.NDArray[np.int64]
    driver: npt.NDArray[np.int64]
    waited: npt.NDArray[np.bool_]
    index: Mapping[str, int] = field(repr=False)

    def finish_date(self, order_id: str) -> dt.date:
        """When ``order_id`` is forecast to be finished (its real date when done)."""
        return self.timeline.start + dt.timedelta(days=int(self.finish_day[self.index[order_id]]))

    def start_date(self, order_id: str) -> dt.date:
        """When ``order_id`` is forecast to start."""
        return self.timeline.start + dt.timedelta(days=int(self.start_day[self.index[order_id]]))

    def station_ready(self) -> dict[str, dt.date]:
        """Each station's forecast ready date (its end-to-end test finished)."""
        return {
            o.station: self.finish_date(o.id)
            for o in self.orders
            if o.kind == READY_KIND and o.station
        }

    def district_ready(self) -> dict[int, dt.date]:
        """Each district's forecast ready date: its last station's."""
        ready: dict[int, dt.date] = {}
        for order in self.orders:
            if order.kind == READY_KIND:
                day = self.finish_date(order.id)
                ready[order.district] = max(day, ready.get(order.district, day))
        return dict(sorted(ready.items()))

    def last_ready(self) -> dt.date | None:
        """The forecast ready date of the last station."""
        days = self.station_ready().values()
        return max(days) if days else None

    def chain(self, order_id: str) -> list[Link]:
        """The critical predecessor chain of ``order_id``, first work order first."""
        links: list[Link] = []
        i = self.index[order_id]
        while i >= 0:
            order = self.orders.orders[i]
            links.append(Link(order.id, self.finish_date(order.id), bool(self.waited[i])))
            i = int(self.driver[i])
        return links[::-1]


@dataclass(frozen=True)
class AtRisk:
    """A station forecast later than the deadline, and the chain that makes it late."""

    station: str
    district: int
    ready: dt.date
    chain: tuple[Link, ...]


@dataclass(frozen=True)
class Forecast:
    """A schedule judged against election day minus the safety buffer (``deadline``)."""

    schedule: Schedule
    election_date: dt.date
    deadline: dt.date
    at_risk: tuple[AtRisk, ...]

    def summary(self) -> dict[str, object]:
        """The headline figures, as ``pollnet schedule --json`` prints them."""
        last = self.schedule.last_ready()
        return {
            "priority": self.schedule.priority,
            "start": self.schedule.timeline.start.isoformat(),
            "last_station_ready": last.isoformat() if last else None,
            "deadline": self.deadline.isoformat(),
            "election_date": self.election_date.isoformat(),
            "stations_at_risk": len(self.at_risk),
            "districts": {str(k): v.isoformat() for k, v in self.schedule.district_ready().items()},
        }


def schedule(
    orders: WorkOrderSet,
    config: RolloutConfig,
    start: dt.date,
    states: Mapping[str, OrderState] | None = None,
    *,
    priority: Priority = "critical_path",
    crew_changes: tuple[CrewChange, ...] = (),
) -> Schedule:
    """Schedule ``orders`` from ``start`` with the crews and calendar of ``config``.

    Done work takes no time and keeps its real date; work in progress goes first in its crew's
    queue; ``crew_changes`` are what-ifs applied to the crews of ``config``.
    """
    states = states or {}
    items = orders.orders
    n = len(items)
    index = {o.id: i for i, o in enumerate(items)}
    districts = {o.district for o in items}
    crews = config.crews.changed(crew_changes, districts) if crew_changes else config.crews
    # Each (agency, scope, district) is one pool of crews: a municipality or an education
    # district is its own agency with its own crews.
    pools: dict[tuple[str, str, int], int] = {}
    pool_of = [-1] * n
    dur = [0.0] * n
    done_list = [False] * n
    started_list = [False] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    preds: list[list[int]] = [[] for _ in range(n)]
    waiting = [0] * n
    for i, order in enumerate(items):
        state = states.get(order.id)
        status = state.status if state else "planned"
        finished = status == "done"
        done_list[i] = finished
        started_list[i] = status == "in_progress"
        if not finished:
            dur[i] = order.duration_days
            if order.crew:
                pool_key = (order.agency, order.scope, order.district)
                pool_of[i] = pools.setdefault(pool_key, len(pools))
        before = [index[p] for p in order.predecessors]
        preds[i] = before
        waiting[i] = len(before)
        for p in before:
            succ[p].append(i)
    pool = np.asarray(pool_of, dtype=np.int64)
    duration = np.asarray(dur, dtype=np.float64)
    done = np.asarray(done_list, dtype=np.bool_)
    started = np.asarray(started_list, dtype=np.bool_)
    capacity = [crews.count(agency, district, scope) for agency, scope, district in pools]
    for (agency, _, district), count in zip(pools, capacity, strict=True):
        if count <= 0:
            raise UserError.of(
                "no crews of {agency} in district {district}", agency=agency, district=district
            )
    if priority == "critical_path":
        key = _latest_starts(duration, pool, capacity, succ, preds, started)
    else:
        key = None
    start_t, finish_t, driver, ready_t = _list_schedule(
        duration, pool, capacity, succ, waiting, key, started
    )
    timeline = config.calendar.timeline(start, 30)
    horizon = float(finish_t.max()) if n else 0.0
    if horizon >= timeline.cum[-1]:
        days = 30
        while config.calendar.timeline(start, days).cum[-1] <= horizon:
            days *= 2
        timeline = config.calendar.timeline(start, days)
    start_day = timeline.start_days(start_t)
    finish_day = np.where(finish_t > 0, timeline.finish_days(finish_t), start_day)
    for i in np.flatnonzero(done).tolist():
        state = states.get(items[i].id)
        if state and state.done_on:
            finish_day[i] = start_day[i] = (state.done_on - start).days
    waited = start_t > ready_t + 1e-9
    return Schedule(
        orders, priority, timeline, start_t, finish_t, start_day, finish_day, driver, waited, index
    )


def _latest_starts(
    duration: npt.NDArray[np.float64],
    pool: npt.NDArray[np.int64],
    capacity: list[int],
    succ: list[list[int]],
    pred: list[list[int]],
    started: npt.NDArray[np.bool_],
) -> list[float]:
    """Latest starts from a backward, crew-limited schedule of the reversed DAG.

    The backward pass schedules from the end with the longest path from the start as priority,
    so the latest starts respect how many crews there are downstream (forward-backward list
    scheduling); the forward pass then starts the work with the earliest latest start first.
    """
    n = len(duration)
    dur = duration.tolist()
    # Longest path from the start to the end of each work order (the reversed DAG's tail).
    head = list(dur)
    for i in range(n):
        if pred[i]:
            head[i] += max([head[p] for p in pred[i]])
    n_succ = [len(a) for a in succ]
    order = list(range(n - 1, -1, -1))
    back_key = [-h for h in head]
    _, back_finish, _, _ = _list_schedule(
        duration, pool, capacity, pred, n_succ, back_key, np.zeros(n, dtype=np.bool_), order
    )
    horizon = float(back_finish.max()) if n else 0.0
    late_start = (horizon - back_finish).tolist()
    return [-1e18 if started[i] else late_start[i] for i in range(n)]


def _list_schedule(
    duration: npt.NDArray[np.float64],
    pool: npt.NDArray[np.int64],
    capacity: list[int],
    succ: list[list[int]],
    waiting: list[int],
    key: list[float] | None,
    started: npt.NDArray[np.bool_],
    order: list[int] | None = None,
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]
]:
    """Schedule in working time: a free crew takes the ready work with the smallest ``key``.

    Without ``key`` the queue is first come, first served (by release time).
    """
    n = len(duration)
    dur = duration.tolist()
    pool_of = pool.tolist()
    first = started.tolist()
    waiting = list(waiting)
    start = [0.0] * n
    finish = [0.0] * n
    ready = [0.0] * n
    driver = [-1] * n
    free = list(capacity)
    queues: list[list[tuple[float, int]]] = [[] for _ in capacity]
    events: list[tuple[float, int]] = []

    def release(i: int, t: float, touched: set[int]) -> None:
        ready[i] = t
        p = pool_of[i]
        if p < 0:
            start[i] = t
            heapq.heappush(events, (t + dur[i], i))
            return
        rank = -1e18 if first[i] else (t if key is None else key[i])
        heapq.heappush(queues[p], (rank, i))
        touched.add(p)

    def dispatch(p: int, t: float) -> None:
        queue = queues[p]
        while free[p] and queue:
            i = heapq.heappop(queue)[1]
            free[p] -= 1
            start[i] = t
            heapq.heappush(events, (t + dur[i], i))

    touched: set[int] = set()
    for i in order if order is not None else range(n):
        if waiting[i] == 0:
            release(i, 0.0, touched)
    for p in sorted(touched):
        dispatch(p, 0.0)
    while events:
        t = events[0][0]
        touched = set()
        while events and events[0][0] <= t:
            _, i = heapq.heappop(events)
            finish[i] = t
            p = pool_of[i]
            if p >= 0:
                free[p] += 1
                touched.add(p)
            for s in succ[i]:
                waiting[s] -= 1
                driver[s] = i
                if waiting[s] == 0:
                    release(s, t, touched)
        for p in sorted(touched):
            dispatch(p, t)
    if any(w > 0 for w in waiting):
        raise UserError.of("work order dependencies form a cycle")
    return (
        np.asarray(start),
        np.asarray(finish),
        np.asarray(driver, dtype=np.int64),
        np.asarray(ready),
    )


def forecast(
    orders: WorkOrderSet,
    config: RolloutConfig,
    start: dt.date,
    election_date: dt.date,
    states: Mapping[str, OrderState] | None = None,
    *,
    priority: Priority = "critical_path",
    crew_changes: tuple[CrewChange, ...] = (),
) -> Forecast:
    """Schedule ``orders`` and list the stations forecast later than the deadline.

    The deadline is ``election_date`` minus the safety buffer (working days) of ``config``.
    """
    plan = schedule(orders, config, start, states, priority=priority, crew_changes=crew_changes)
    deadline = config.calendar.subtract_working_days(election_date, config.safety_buffer_days)
    late = []
    for order in orders:
        if order.kind == READY_KIND and order.station:
            ready = plan.finish_date(order.id)
            if ready > deadline:
                late.append(
                    AtRisk(order.station, order.district, ready, tuple(plan.chain(order.id)))
                )
    late.sort(key=lambda r: (-r.ready.toordinal(), r.station))
    return Forecast(plan, election_date, deadline, tuple(late))


@dataclass(frozen=True)
class WhatIf:
    """How crew changes move the forecast: before and after, per district and overall."""

    changes: tuple[CrewChange, ...]
    before: Forecast
    after: Forecast

    def rows(self) -> list[tuple[int, dt.date, dt.date]]:
        """(district, ready before, ready after) for every district."""
        before = self.before.schedule.district_ready()
        after = self.after.schedule.district_ready()
        return [(d, before[d], after[d]) for d in before]


MAX_EXTRA_CREWS = 64
"""The most extra crews per agency and district the search tries."""


@dataclass(frozen=True)
class CrewSuggestion:
    """How many more crews of which agency, in every district, would meet the deadline.

    ``changes`` are what-ifs (one per agency, every district); ``forecast`` is the schedule with
    them; ``tried`` counts the schedules the search computed. Empty ``changes`` with stations
    still at risk means no number of crews helps: lead times alone make those stations late.
    """

    changes: tuple[CrewChange, ...]
    forecast: Forecast
    tried: int

    @property
    def meets_deadline(self) -> bool:
        return not self.forecast.at_risk

    def as_option(self) -> str:
        """The changes as ``--crews`` values (``telecom=+4 municipality=+1``)."""
        return " ".join(f"{c.agency}=+{c.delta}" for c in self.changes)


def suggest_crews(
    orders: WorkOrderSet,
    config: RolloutConfig,
    start: dt.date,
    election_date: dt.date,
    states: Mapping[str, OrderState] | None = None,
    *,
    priority: Priority = "critical_path",
    limit: int = MAX_EXTRA_CREWS,
) -> CrewSuggestion:
    """The fewest extra crews per agency (the same number in every district) with which no
    station is at risk, found by searching the what-if.

    The agencies whose crews the late stations waited for are raised together, doubling,
    until the deadline is met (or ``limit`` extra crews each do not meet it); then each
    agency's number is lowered by bisection as far as the deadline still holds.
    """
    tried = 0

    def run(deltas: Mapping[str, int]) -> Forecast:
        nonlocal tried
        tried += 1
        changes = tuple(CrewChange(a, None, d) for a, d in deltas.items() if d)
        return forecast(
            orders, config, start, election_date, states, priority=priority, crew_changes=changes
        )

    base = run({})
    if not base.at_risk:
        return CrewSuggestion((), base, tried)
    waited = {
        base.schedule.orders.by_id[link.order_id].agency
        for late in base.at_risk
        for link in late.chain
        if link.waited_for_crew
    }
    agencies = sorted(waited) or sorted({o.agency for o in orders if o.crew})
    step = 1
    best = run(dict.fromkeys(agencies, step))
    while best.at_risk and step < limit:
        step = min(step * 2, limit)
        best = run(dict.fromkeys(agencies, step))
    if best.at_risk:  # crews are not what makes those stations late
        return CrewSuggestion((), base, tried)
    deltas = dict.fromkeys(agencies, step)
    for agency in agencies:
        low, high = 0, deltas[agency]  # high meets the deadline, low is not known to
        while low < high:
            mid = (low + high) // 2
            trial = run({**deltas, agency: mid})
            if trial.at_risk:
                low = mid + 1
            else:
                high, best = mid, trial
        deltas[agency] = high
    final = run(deltas)  # the schedule of exactly what is suggested
    changes = tuple(CrewChange(a, None, d) for a, d in deltas.items() if d)
    return CrewSuggestion(changes, final, tried)

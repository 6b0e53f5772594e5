"""The working calendar: the Iranian week, official holidays and working-day arithmetic.

Each day has a capacity in working days: 1 for a full day, 0.5 for a half day (Thursday by
default), 0 for the weekend (Friday) and holidays. Working time is the sum of capacities: the
scheduler plans in working time and the calendar turns it back into dates, so arithmetic is the
same across Jalali month ends as anywhere else. Holidays are given as Jalali (``1406/01/01``) or
Gregorian dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pollnet.errors import ConfigError, UserError
from pollnet.values import parse_date

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
THURSDAY_CAPACITY = {"full": 1.0, "half": 0.5, "off": 0.0}


@dataclass(frozen=True)
class WorkCalendar:
    """Working capacity per weekday (Monday first, as ``date.weekday()``) and holidays."""

    weekday_capacity: tuple[float, ...] = (1.0, 1.0, 1.0, 0.5, 0.0, 1.0, 1.0)
    holidays: frozenset[dt.date] = frozenset()

    @classmethod
    def from_config(
        cls, table: Mapping[str, Any], source: str = "rollout.calendar"
    ) -> WorkCalendar:
        """A calendar from the ``[calendar]`` table: ``weekend``, ``thursday``, ``holidays``."""
        weekend = [str(d).lower() for d in table.get("weekend", ["friday"])]
        unknown = [d for d in weekend if d not in WEEKDAYS]
        if unknown:
            raise ConfigError.of(
                "unknown weekday: {value}", file=source, column="weekend", value=unknown[0]
            )
        thursday = str(table.get("thursday", "half"))
        if thursday not in THURSDAY_CAPACITY:
            raise ConfigError.of(
                "thursday must be full, half or off, not {value}",
                file=source,
                column="thursday",
                value=thursday,
            )
        capacity = [1.0] * 7
        capacity[WEEKDAYS.index("thursday")] = THURSDAY_CAPACITY[thursday]
        for day in weekend:
            capacity[WEEKDAYS.index(day)] = 0.0
        try:
            holidays = frozenset(
                parse_date(str(text), source=source, column="holidays")
                for text in table.get("holidays", ())
            )
        except UserError as exc:
            raise ConfigError(exc.problems) from None
        return cls(tuple(capacity), holidays)

    def capacity(self, day: dt.date) -> float:
        """Working days available on ``day``."""
        return 0.0 if day in self.holidays else self.weekday_capacity[day.weekday()]

    def timeline(self, start: dt.date, days: int) -> Timeline:
        """The cumulative working time of ``days`` days from ``start``."""
        offsets = np.arange(days)
        weekday = (start.weekday() + offsets) % 7
        cap = np.asarray(self.weekday_capacity, dtype=np.float64)[weekday]
        for holiday in self.holidays:
            index = (holiday - start).days
            if 0 <= index < days:
                cap[index] = 0.0
        cum = np.concatenate(([0.0], np.cumsum(cap)))
        return Timeline(start, cap, cum)

    def _covering(self, start: dt.date, work_days: float) -> Timeline:
        days = int(work_days * 2.0) + 60
        while True:
            timeline = self.timeline(start, days)
            if timeline.cum[-1] > work_days:
                return timeline
            if days > 365 * 200:
                raise ConfigError.of("the working calendar has no working days")
            days *= 2

    def add_working_days(self, day: dt.date, n: float) -> dt.date:
        """The first working day by whose start ``n`` working days have passed since ``day``.

        ``add_working_days(saturday, 1)`` is the Sunday after; with whole-day capacities,
        ``working_days_between(day, add_working_days(day, n)) == n``.
        """
        if n < 0:
            return self.subtract_working_days(day, -n)
        timeline = self._covering(day, n)
        index = int(np.searchsorted(timeline.cum, n - 1e-9, side="left"))
        while timeline.cap[index] == 0:
            index += 1
        return day + dt.timedelta(days=index)

    def subtract_working_days(self, day: dt.date, n: float) -> dt.date:
        """The last day ``d`` with ``working_days_between(d, day) >= n``."""
        probe = day - dt.timedelta(days=int(n * 2.0) + 60)
        while self.working_days_between(probe, day) < n:
            probe -= dt.timedelta(days=int(n * 2.0) + 60)
        timeline = self.timeline(probe, (day - probe).days + 1)
        behind = timeline.cum[-2] - timeline.cum  # work from each day's start to ``day``'s start
        index = int(np.nonzero(behind[:-1] >= n - 1e-9)[0][-1])
        return probe + dt.timedelta(days=index)

    def working_days_between(self, start: dt.date, end: dt.date) -> float:
        """Working days from the start of ``start`` to the start of ``end`` (negative if before)."""
        if end < start:
            return -self.working_days_between(end, start)
        return float(self.timeline(start, (end - start).days).cum[-1])

    def working_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The days between ``start`` and ``end`` (inclusive) with any working capacity."""
        days = (end - start).days + 1
        return [
            start + dt.timedelta(days=i)
            for i in range(max(days, 0))
            if self.capacity(start + dt.timedelta(days=i)) > 0
        ]


@dataclass(frozen=True)
class Timeline:
    """Working time from ``start``: ``cum[i]`` is the work done before day ``i`` begins."""

    start: dt.date
    cap: npt.NDArray[np.float64]
    cum: npt.NDArray[np.float64]

    def time_of(self, day: dt.date) -> float:
        """Working time at the start of ``day``."""
        return float(self.cum[(day - self.start).days])

    def start_days(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Day offsets on which work starting at working time ``t`` begins."""
        return np.searchsorted(self.cum, t, side="right").astype(np.int64) - 1

    def finish_days(self, t: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Day offsets on which work ending at working time ``t`` ends (``t > 0``)."""
        return np.maximum(np.searchsorted(self.cum, t - 1e-9, side="left").astype(np.int64) - 1, 0)

    def dates(self, offsets: Iterable[int]) -> list[dt.date]:
        """Day offsets as dates."""
        return [self.start + dt.timedelta(days=int(i)) for i in offsets]

"""Rollout coordination: work orders for every agency, a schedule against election day,
status from the agencies, readiness and the weekly report.

The core is pure (plans and work orders in, schedules and reports out); :mod:`.store` and
:mod:`.sheets` do the database and file I/O.
"""

from pollnet.rollout.calendar import WorkCalendar
from pollnet.rollout.readiness import STAGES, DistrictReadiness, readiness, station_stages
from pollnet.rollout.report import WeeklyReport, render_html, weekly, write_xlsx
from pollnet.rollout.schedule import AtRisk, Forecast, Schedule, WhatIf, forecast, schedule
from pollnet.rollout.status import STATUSES, OrderState, StatusUpdate, apply_updates
from pollnet.rollout.templates import CrewChange, Crews, RolloutConfig, load_config
from pollnet.rollout.workorders import (
    AreaLookup,
    Regeneration,
    WorkOrder,
    WorkOrderSet,
    generate,
    in_areas,
    reconcile,
    validate_dag,
)

__all__ = [
    "STAGES",
    "STATUSES",
    "AreaLookup",
    "AtRisk",
    "CrewChange",
    "Crews",
    "DistrictReadiness",
    "Forecast",
    "OrderState",
    "Regeneration",
    "RolloutConfig",
    "Schedule",
    "StatusUpdate",
    "WeeklyReport",
    "WhatIf",
    "WorkCalendar",
    "WorkOrder",
    "WorkOrderSet",
    "apply_updates",
    "forecast",
    "generate",
    "in_areas",
    "load_config",
    "readiness",
    "reconcile",
    "render_html",
    "schedule",
    "station_stages",
    "validate_dag",
    "weekly",
    "write_xlsx",
]
